"""What differs between the register's two databases, and nothing else.

The register's statements are written once (``storage.sql``), in the SQL both SQLite
(3.40: ``ON CONFLICT DO NOTHING``, ``RETURNING``) and PostgreSQL speak, with ``?``
placeholders. A ``Dialect`` holds the few real differences: how a write transaction
starts (SQLite's ``BEGIN IMMEDIATE`` takes the file's write lock at once; PostgreSQL
takes an advisory lock per site instead, ``lock``), the row-locking clauses SQLite has
no use for (it has one writer), reading a field of a JSON text column, and the
placeholder style the driver wants. ``Db`` is the one connection shape the statements
need; ``sqlite3.Connection`` has it, and ``storage.postgres`` adapts psycopg's to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agent.tickets.storage.definition import DialectName


class Result(Protocol):
    """A statement's outcome: its rows and how many it changed."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Db(Protocol):
    """A connection inside a transaction; rows answer both ``row["name"]`` and ``row[0]``."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    name: DialectName
    #: Appended to a SELECT whose rows the transaction is about to claim.
    skip_locked: str
    #: Appended to a SELECT whose row the transaction then updates from what it read.
    for_update: str

    def json_text(self, column: str, key: str) -> str:
        """``column``'s JSON text, field ``key``, as text (``key`` is ours, never input)."""
        if not key.isidentifier():
            raise ValueError(f"not a JSON key of ours: {key!r}")
        if self.name == "sqlite":
            return f"json_extract({column}, '$.{key}')"
        return f"(({column})::jsonb ->> '{key}')"

    def lock(self, db: Db, key: str) -> None:
        """Serialise the transactions about ``key`` (a site, a run) until commit.

        SQLite's ``BEGIN IMMEDIATE`` already made this transaction the only writer; on
        PostgreSQL a transaction-scoped advisory lock on the key's 64-bit hash does the
        same for just that key (released by commit or rollback, never leaked).
        """
        if self.name == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))


SQLITE = Dialect("sqlite", skip_locked="", for_update="")
POSTGRESQL = Dialect("postgresql", skip_locked=" FOR UPDATE OF o SKIP LOCKED",
                     for_update=" FOR UPDATE")


def placeholders(count: int) -> str:
    """``?, ?, …`` for an ``IN (…)`` over a list of our own bounded size."""
    if not 0 < count <= 100:
        raise ValueError(f"an IN list of {count} values")
    return ", ".join("?" * count)
