"""One call per line at a time across every worker: the lock authority is the register's.

A job holds ``site:<id>`` (one maintenance session per PBX) and ``modem:<device>`` for each
modem path it may dial (a modem carries one call). Every worker of every host must agree,
so the authority is the one thing they all share, the register's database:

- PostgreSQL: session-level advisory locks, keyed by a 64-bit hash of the line's key, on a
  connection held for the call. A killed worker's connection dies, and its locks with it.
- a SQLite file (workers on one host): the cross-process ``flock`` of agent/sitelock.py in
  the data dir, the same lock a console session takes; the kernel frees it when the holder
  dies.

Each hold is appended to a log (key, run id, worker, acquired/released) so a test or an
operator can prove no line was ever held twice at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import quote, urlsplit

from agent.inventory import Site
from agent.sitelock import LineInUse, site_line
from agent.tickets.storage.location import PostgresUrl, RegisterLocation

MAX_LOG_LINE: Final = 4096


def line_keys(site: Site, paths: range) -> list[str]:
    """The site's PBX and the modem devices among ``paths``, in a fixed order (no
    deadlock between two jobs)."""
    keys = [f"site:{site.id}"]
    keys += [f"modem:{urlsplit(site.paths[i]).path}" for i in paths
             if urlsplit(site.paths[i]).scheme == "modem"]
    return sorted(set(keys))


class LineAuthority(Protocol):
    def hold(self, key: str, *, wait: float) -> AbstractContextManager[None]:
        """Hold ``key`` for the block; ``LineInUse`` when still taken after ``wait``."""
        ...


class FileLocks:
    """flock files under the data dir: one host, a SQLite register (agent/sitelock.py)."""

    def __init__(self, data_dir: Path, who: str) -> None:
        self.data_dir = data_dir
        self.who = who

    @contextmanager
    def hold(self, key: str, *, wait: float) -> Iterator[None]:
        kind, _, name = key.partition(":")
        # site:<id> is the very lock a console session on this host takes.
        lock_name = name if kind == "site" else f"{kind}-{quote(name, safe='')}"
        with site_line(self.data_dir, lock_name, who=self.who, wait=wait):
            yield


class AdvisoryLocks:
    """PostgreSQL session advisory locks, each on its own connection held for the call."""

    def __init__(self, location: PostgresUrl) -> None:
        self.location = location

    @staticmethod
    def lock_id(key: str) -> int:
        """64 bits of ``line:<key>``'s SHA-256: the ``line:`` prefix keeps these apart from
        the register's own transaction locks (``site:``, ``run:``, ``pbxdiag:schema``)."""
        digest = hashlib.sha256(f"line:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    @contextmanager
    def hold(self, key: str, *, wait: float) -> Iterator[None]:
        """Wait in the server (``lock_timeout``), woken when the holder lets go or dies."""
        import psycopg
        from psycopg import errors

        lock_id = self.lock_id(key)
        timeout_ms = max(1, int(wait * 1000))
        with psycopg.connect(self.location.dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"SET lock_timeout = {timeout_ms:d}")
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (lock_id,))
            except errors.LockNotAvailable:
                raise LineInUse(f"the line {key} is in use by another worker; "
                                "try again when it is free") from None
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id,))


def authority_for(location: RegisterLocation, data_dir: Path, who: str) -> LineAuthority:
    if isinstance(location, PostgresUrl):
        return AdvisoryLocks(location)
    return FileLocks(data_dir, who)


class HoldLog:
    """An append-only JSON-lines log of every hold; one ``write`` per line (O_APPEND), so
    lines of several processes never interleave."""

    def __init__(self, path: Path, worker: str) -> None:
        self.path = path
        self.worker = worker
        path.parent.mkdir(parents=True, exist_ok=True)

    def note(self, event: str, key: str, run_id: str) -> None:
        line = json.dumps({"event": event, "key": key, "run_id": run_id,
                           "worker": self.worker, "pid": os.getpid(),
                           "at": datetime.now(UTC).isoformat(),
                           "mono": time.monotonic()})[:MAX_LOG_LINE] + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)


@contextmanager
def holding(authority: LineAuthority, keys: list[str], *, run_id: str, wait: float,
            log: HoldLog | None) -> Iterator[None]:
    """Every key, in order, for the block; each hold noted when taken and when given up."""
    deadline = time.monotonic() + max(0.0, wait)
    with ExitStack() as stack:
        for key in keys:
            stack.enter_context(authority.hold(key, wait=max(0.0, deadline - time.monotonic())))
            if log is not None:
                log.note("acquired", key, run_id)
                stack.callback(log.note, "released", key, run_id)
        yield
