"""Which store keeps a register: a SQLite file or a PostgreSQL database, by its location.

The one place a location becomes a store, so ``Register``, ``RunLog``, ``SmdrLog`` and
``pbxdiag register`` agree; psycopg is imported only when a PostgreSQL URL is given (the
embedded default never needs the ``scale`` extra).
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import InputError
from agent.tickets.storage.location import (
    POSTGRES_SCHEMES,
    PostgresUrl,
    RegisterLocation,
    parse_location,
)
from agent.tickets.storage.sql import SqlStore


def location_of(where: RegisterLocation | str) -> RegisterLocation:
    """A location from a ``Path``, a ``PostgresUrl`` or text as ``--db`` takes it.

    ``Path("postgresql://…")`` is a URL squashed into a path (a SQLite file named
    ``postgresql:`` would be created): refused, so the mistake cannot go unseen."""
    if isinstance(where, PostgresUrl):
        return where
    if isinstance(where, Path):
        if where.parts and where.parts[0].lower().rstrip(":") in POSTGRES_SCHEMES:
            raise InputError("--db: a PostgreSQL URL was given as a file path; pass the URL "
                             "text (or a PostgresUrl)")
        return where
    return parse_location(where)


def store_for(where: RegisterLocation | str, *, busy_timeout_s: float = 30.0) -> SqlStore:
    location = location_of(where)
    if isinstance(location, PostgresUrl):
        from agent.tickets.storage.postgres import PostgresStore

        return PostgresStore(location)
    from agent.tickets.storage.sqlite import SqliteStore

    return SqliteStore(location, busy_timeout_s=busy_timeout_s)
