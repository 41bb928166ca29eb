"""The engineer's terminal: raw mode while the session runs, and hang-up signals.

Raw mode (every key goes to the PBX as typed, Ctrl-C included) is set only when stdin is a
terminal and always restored, whatever ends the session. A closed terminal (SIGHUP) or a
``kill`` (SIGTERM) becomes an exception in the main thread, so the session's ``finally``
logs out and hangs the modem up exactly as ``~.`` does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import termios
import tty
from collections.abc import Iterator
from types import FrameType
from typing import Any


class TerminalGone(Exception):
    """The terminal was closed (SIGHUP) or the session was told to end (SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"ended by {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def hang_up_on_signals() -> Iterator[None]:
    """SIGHUP and SIGTERM raise ``TerminalGone``; once raised, further ones are ignored so
    the clean-up (log out, hang up, save the transcript) is not cut short."""
    signums = (signal.SIGHUP, signal.SIGTERM)

    def _raise(signum: int, _frame: FrameType | None) -> None:
        for other in signums:
            signal.signal(other, signal.SIG_IGN)
        raise TerminalGone(signum)

    previous: dict[int, Any] = {s: signal.signal(s, _raise) for s in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[bool]:
    """Put the terminal on ``fd`` in raw mode for the block (yields False: not a tty)."""
    if not os.isatty(fd):
        yield False
        return
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)
    try:
        yield True
    finally:
        with contextlib.suppress(termios.error, OSError):  # the terminal may be gone
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
