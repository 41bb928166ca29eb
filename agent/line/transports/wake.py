"""The key that wakes a console behind a terminal server, pressed a bounded number of times.

A serial console behind a terminal server (its telnet port, or an SSH console server)
shows nothing until a key is pressed. ``wake`` (``wake=%0D``) is sent once the line is
up, and again every ``wake_interval`` seconds while the line stays silent, at most
``wake_tries`` times; whatever the console says is handed back for the first read, so
no banner is lost. If it never speaks, the login dialogue's own timeout follows (and the
runner tries the site's next path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.line.errors import InputError
from agent.line.transports.options import LineOptions

DEFAULT_TRIES = 3
DEFAULT_INTERVAL = 2.0  # seconds of silence before the key is pressed again
MAX_TRIES = 20
READ_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class Wake:
    data: bytes
    tries: int = DEFAULT_TRIES
    interval: float = DEFAULT_INTERVAL


def wake_option(opts: LineOptions) -> Wake | None:
    """``wake``, ``wake_tries``, ``wake_interval``; None when no key is to be sent."""
    key = opts.text("wake")
    tries = opts.integer("wake_tries", DEFAULT_TRIES, minimum=1)
    interval = opts.number("wake_interval", DEFAULT_INTERVAL, minimum=0.1)
    if tries > MAX_TRIES:
        raise InputError(f"option wake_tries={tries} in {opts.url}: at most {MAX_TRIES}")
    return Wake(key.encode("latin-1", errors="replace"), tries, interval) if key else None


def press(wake: Wake, write: Callable[[bytes], None],
          read: Callable[[int, float], bytes]) -> bytes:
    """Send the key until anything arrives (returned), at most ``wake.tries`` times."""
    for _ in range(wake.tries):
        write(wake.data)
        arrived = read(READ_CHUNK, wake.interval)
        if arrived:
            return arrived
    return b""
