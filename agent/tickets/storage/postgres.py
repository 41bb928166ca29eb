"""The register in a PostgreSQL database (psycopg 3): connection, migrations, transactions.

The statements are SQLite's (``storage.sql``); what this module adds is how they run on a
server. A write transaction is a plain ``BEGIN`` (READ COMMITTED: each statement sees
what was committed before it) whose statements lock what they are about — a site by
advisory lock, the year's counter row by ``INSERT … ON CONFLICT DO UPDATE``, outbox rows
by ``FOR UPDATE SKIP LOCKED`` — so the guarantees of SQLite's single writer hold with
many writers: one open ticket per fault, fault references never reused, one sender per
notification. Parameters are bound on the client (``ClientCursor``): the SQL's
``? IS NULL`` tests need no server-side type, as in SQLite.

A fleet's threads share one ``Register``, so its one connection is used under a lock
(one transaction at a time per process; concurrency is between processes and hosts).
A server that cannot be reached is ``RegisterUnreachable``: one line, the URL without its
password, never psycopg's own text unredacted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from agent.errors import InputError
from agent.tickets.schema import MIGRATIONS, SCHEMA_VERSION
from agent.tickets.storage import definition
from agent.tickets.storage.dialect import POSTGRESQL
from agent.tickets.storage.location import PostgresUrl
from agent.tickets.storage.sql import SqlStore

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT_S: Final = 10
#: A transaction waiting longer than this for a lock is stuck, not busy.
LOCK_TIMEOUT_MS: Final = 30_000
_SCHEMA_LOCK: Final = "pbxdiag:schema"


class RegisterUnreachable(InputError):
    """The register's PostgreSQL server cannot be reached or refused us.

    Bad input (exit 2), not a line problem: the location is the desk's own configuration
    (a wrong host, a stopped server, a wrong password), found before any PBX is dialled,
    and no run or ticket depends on a PBX line here.
    """


class Row:
    """A result row that answers ``row["name"]`` and ``row[0]``, as ``sqlite3.Row`` does."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: Sequence[Any]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key if isinstance(key, int) else self._names[key]]

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: n for n, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        return Row(names, values)

    return make


class _Adapted:
    """psycopg's connection with the statements' ``?`` placeholders (``storage.dialect.Db``)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        return self._conn.execute(_pg(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        cursor = self._conn.cursor()
        cursor.executemany(_pg(sql), [tuple(p) for p in parameters])
        return cursor


def _pg(sql: str) -> str:
    """``?`` → ``%s`` (our statements hold no ``?`` or ``%`` inside string literals)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresStore(SqlStore):
    """One PostgreSQL register database; one connection per store, used under a lock."""

    dialect = POSTGRESQL

    def __init__(self, url: PostgresUrl, *, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.RLock()
        self._opened = False

    def open(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            self._conn = self._connect()
            self._opened = True
            try:
                self.migrated_from, _ = self._migrate()
            except BaseException:
                self.close()
                raise

    @property
    def schema_version(self) -> int:
        found = self._read("SELECT version FROM schema_version")
        return int(found[0][0]) if found else 0

    # --- plumbing ----------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            import psycopg
        except ImportError:
            raise InputError(f"--db {self.url}: PostgreSQL needs psycopg: "
                             "pip install 'pbxdiag[scale]'") from None
        try:
            conn = psycopg.connect(self.url.dsn, autocommit=True,
                                   connect_timeout=max(1, int(self.connect_timeout_s)),
                                   cursor_factory=psycopg.ClientCursor,
                                   application_name="pbxdiag")
        except psycopg.Error as err:
            raise self._unreachable(err) from None
        conn.row_factory = _row_factory
        conn.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS:d}")
        return conn

    def _unreachable(self, err: BaseException) -> RegisterUnreachable:
        """One line about ``err``, with nothing of the URL's secret in it."""
        text = (str(err).strip().splitlines() or [type(err).__name__])[0]
        secret = _password(self.url.dsn)
        if secret:
            text = text.replace(secret, "***")
        return RegisterUnreachable(f"--db {self.url}: cannot use the register: {text}")

    def _connection(self) -> psycopg.Connection[Any]:
        """The open connection; after a lost one (a server restart), a new one, so a
        long-running worker or monitor carries on once the server is back."""
        if self._conn is None:
            if not self._opened:
                raise RuntimeError("register is not open: use 'with Register(url) as reg:'")
            self._conn = self._connect()
        return self._conn

    def _lost(self, err: BaseException) -> RegisterUnreachable:
        """Forget a broken connection (the next use reconnects); the error to raise."""
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self._conn = None
        return self._unreachable(err)

    def close(self) -> None:
        self._opened = False
        super().close()

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        import psycopg

        with self._lock:
            try:
                return list(_Adapted(self._connection()).execute(sql, params).fetchall())
            except psycopg.OperationalError as err:
                raise self._lost(err) from None

    @contextmanager
    def _begin(self) -> Iterator[_Adapted]:
        """One write transaction: commit at the end, roll back on any error."""
        import psycopg

        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    yield _Adapted(conn)
            except psycopg.OperationalError as err:
                if conn.closed or conn.broken:
                    raise self._lost(err) from None
                raise

    def _migrate(self) -> tuple[int, int]:
        """Create the baseline schema in an empty database, then run the portable steps;
        an advisory lock makes racing openers take turns."""
        with self._begin() as db:
            POSTGRESQL.lock(db, _SCHEMA_LOCK)
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            found = db.execute("SELECT version FROM schema_version").fetchall()
            version = int(found[0][0]) if found else 0
            if version > SCHEMA_VERSION:
                raise InputError(f"--db {self.url}: register schema version {version} is newer"
                                 f" than this pbxdiag understands ({SCHEMA_VERSION})")
            if not found:
                for statement in definition.ddl("postgresql"):
                    db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)",
                           (definition.BASELINE_VERSION,))
                start = definition.BASELINE_VERSION
            else:
                start = version
            for migration in MIGRATIONS[start:]:
                migration(db)
            if start != SCHEMA_VERSION:
                db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        return version, SCHEMA_VERSION


def _password(dsn: str) -> str | None:
    from urllib.parse import parse_qs, unquote, urlsplit

    try:
        parts = urlsplit(dsn)
        given = parts.password
    except ValueError:
        return None
    if given:
        return unquote(given)
    query = parse_qs(parts.query).get("password")
    return query[0] if query else None
