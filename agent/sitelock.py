"""The site's line lock across processes: a console session and a run never share a PBX.

``fleet.LineLocks`` keeps a fleet's own threads apart; a console typed at by an engineer
and a scheduled run are separate processes, so the lock is a file under the data dir
(``locks/<site>.lock``) held with ``flock`` — released by the kernel when the holder dies,
so a crashed session never leaves a stale lock. Who holds it (command, pid, since when) is
written inside, so the one refused can say who to ask.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from agent.line.errors import ConnectFailed

#: How often a waiting process tries the lock again (no notification exists for flock).
RETRY_INTERVAL = 0.2
_MAX_HOLDER_BYTES = 4096


class LineInUse(ConnectFailed):
    """Another pbxdiag process holds the site's line (exit 3: the PBX was not reached)."""


def lock_path(data_dir: Path, site_id: str) -> Path:
    return data_dir / "locks" / f"{site_id}.lock"


def holder_of(path: Path) -> str:
    """Who holds the lock at ``path``, as written by the holder (or "unknown")."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_HOLDER_BYTES)
        info = json.loads(raw.decode("utf-8"))
        return f"{info['who']} (pid {info['pid']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"


@contextmanager
def site_line(data_dir: Path, site_id: str, *, who: str, wait: float = 0.0) -> Iterator[Path]:
    """Hold the site's line lock for the block; wait up to ``wait`` seconds for it.

    Raises ``LineInUse`` naming the holder when it stays taken past the deadline."""
    path = lock_path(data_dir, site_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, path, site_id, wait)
        info = {"who": who, "pid": os.getpid(),
                "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, site_id: str, wait: float) -> None:
    deadline = time.monotonic() + max(0.0, wait)
    pause = threading.Event()  # never set: its wait is a bounded pause between tries
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LineInUse(f"the line to {site_id} is in use by {holder_of(path)}; "
                                f"try again when it is free") from None
            pause.wait(min(RETRY_INTERVAL, remaining))
