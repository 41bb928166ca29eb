"""The register in one SQLite file: connection, WAL, migrations, how a transaction begins.

Several processes (a fleet run, a support engineer's CLI, cron) write at once, so every
change is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken *before* the
"is there already an open ticket?" read, which is what keeps a scheduled health check from
opening duplicates, and fault references come from a counter row bumped in the same
transaction, so they are unique and never reused. WAL lets readers run beside a writer.
The statements themselves are shared with PostgreSQL (``storage.sql``).
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.tickets.schema import MIGRATIONS, SCHEMA_VERSION
from agent.tickets.storage.dialect import SQLITE
from agent.tickets.storage.sql import SqlStore


class SqliteStore(SqlStore):
    """One SQLite register file; one connection, shared by a fleet's threads under a lock."""

    dialect = SQLITE

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        # One connection may be shared by a fleet's threads; transactions must not interleave.
        self._lock = threading.RLock()

    def open(self) -> None:
        if self._conn is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                               check_same_thread=False)
        try:
            with _opening_lock(self.path):
                _configure(conn, self.busy_timeout_s)
                self._conn = conn
                self.migrated_from, _ = self._migrate()
        except BaseException:
            self._conn = None
            conn.close()
            raise

    @property
    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    # --- plumbing ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("register is not open: use 'with Register(path) as reg:'")
        return self._conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    @contextmanager
    def _begin(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock is taken up front so the reads inside are current."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self) -> tuple[int, int]:
        """Bring the schema up to date; re-read inside the lock so racing openers agree."""
        with self._begin() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise InputError(f"register schema version {version} is newer than this "
                                 f"pbxdiag understands ({SCHEMA_VERSION})", path=str(self.path))
            for migration in MIGRATIONS[version:]:
                migration(conn)
            if version != SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        return version, SCHEMA_VERSION


def _configure(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000):d}")
    _enable_wal(conn)
    conn.execute("PRAGMA synchronous = FULL")  # a logged fault must survive a power cut
    conn.execute("PRAGMA foreign_keys = ON")


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL (it persists in the file; afterwards this is one read).

    SQLite does not call its busy handler for a journal-mode switch, so processes opening
    a new register together are serialised by ``_opening_lock`` rather than retried.
    """
    mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    if mode != "wal":
        mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
    if mode != "wal":
        raise InputError(f"the register cannot use WAL mode (got {mode!r})")


@contextmanager
def _opening_lock(db_path: Path) -> Iterator[None]:
    """An exclusive lock on a sidecar file while a register is configured and migrated.

    Waiting is on the lock's release (an event), never a retry loop; the holder keeps it
    for milliseconds and the kernel releases it if the holder dies.
    """
    lock_path = db_path.with_name(db_path.name + ".lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
