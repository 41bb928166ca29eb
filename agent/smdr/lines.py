"""Bytes off an SMDR port into complete text lines, with every size bounded.

An SMDR port is a byte stream: a read may end mid-line, a noisy serial line may send a
megabyte with no newline. Bytes are decoded as latin-1 (every byte is a character, so no
byte can stop the read) and split at ``\\n`` only — the parsers count lines the way a
file does, and a form feed before a page header is not a line end. A line longer than
``MAX_LINE`` is cut there: no documented layout is near it, so it is noise either way.
"""

from __future__ import annotations

from typing import Final

MAX_LINE: Final = 1024  # characters kept of one line (the widest layout is 120)
MAX_LINES: Final = 4096  # lines returned by one feed; the rest wait for the next call


class LineSplitter:
    """Accumulates bytes and hands out the complete lines (without their ``\\n``)."""

    def __init__(self) -> None:
        self._partial = ""
        self._ready: list[str] = []

    def feed(self, data: bytes) -> list[str]:
        """The lines completed by ``data`` (and any left over from a capped call)."""
        if data:
            text = self._partial + data.decode("latin-1")
            *complete, rest = text.split("\n")
            self._ready += [line[:MAX_LINE] for line in complete]
            self._partial = rest[-MAX_LINE:] if len(rest) > MAX_LINE else rest
        out, self._ready = self._ready[:MAX_LINES], self._ready[MAX_LINES:]
        return out

    @property
    def pending(self) -> str:
        """The incomplete last line (a prompt during the login dialogue)."""
        return self._partial

    def reset(self) -> None:
        self._partial = ""
        self._ready = []
