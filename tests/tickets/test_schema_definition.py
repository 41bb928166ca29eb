"""One schema definition for both backends (agent/tickets/storage/definition.py).

SQLite reaches the baseline through its released migrations; PostgreSQL is created from
the definition. These tests prove the two are the same schema: a SQLite file migrated
from nothing has exactly the declared columns (types, NOT NULL, defaults, keys), uniques,
checks, references and indexes, and PostgreSQL's catalogue says the same.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import psycopg

from agent.tickets.schema import MIGRATIONS
from agent.tickets.storage import definition
from agent.tickets.storage.location import PostgresUrl
from agent.tickets.storage.postgres import PostgresStore
from tests.dbservers import PostgresServer, fresh_database


def _checks(sql: str) -> list[str]:
    """Every CHECK (…) expression of a CREATE TABLE, whitespace normalised."""
    found, at = [], 0
    while (start := sql.upper().find("CHECK", at)) != -1:
        open_at = sql.index("(", start)
        depth, end = 0, open_at
        for end in range(open_at, len(sql)):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            if depth == 0:
                break
        found.append(" ".join(sql[open_at + 1:end].split()))
        at = end
    return sorted(found)


def _shape(conn: sqlite3.Connection) -> dict[str, Any]:
    """What a SQLite schema says about itself, comment and layout free."""
    shape: dict[str, Any] = {}
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        sql = re.sub(r"--[^\n]*", "", sql)
        uniques = sorted(
            tuple(r[2] for r in conn.execute(f"PRAGMA index_info('{index[1]}')"))
            for index in conn.execute(f"PRAGMA index_list('{table}')") if index[3] == "u")
        shape[table] = {
            "columns": [tuple(r[1:6]) for r in conn.execute(f"PRAGMA table_info('{table}')")],
            "uniques": uniques,
            "references": sorted(tuple(r[2:5]) for r in
                                 conn.execute(f"PRAGMA foreign_key_list('{table}')")),
            "checks": _checks(sql),
        }
    shape["indexes"] = sorted(
        (name, " ".join(sql.split())) for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    return shape


def test_sqlite_migrated_from_nothing_is_the_definition() -> None:
    """Through every migration: the definition describes the newest schema, so a new
    migration cannot land without its declarations (``register copy`` and a new
    PostgreSQL database would otherwise miss what it adds)."""
    assert len(MIGRATIONS) == definition.BASELINE_VERSION, \
        "a migration was added: declare what it changes in storage/definition.py"
    migrated = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        migration(migrated)
    declared = sqlite3.connect(":memory:")
    for statement in definition.ddl("sqlite"):
        declared.execute(statement)
    assert _shape(migrated) == _shape(declared)
    assert sorted(t.name for t in definition.TABLES) == sorted(
        k for k in _shape(declared) if k != "indexes")


def test_postgresql_is_created_from_the_definition(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    store = PostgresStore(PostgresUrl(url))
    store.open()
    store.close()
    with psycopg.connect(url, connect_timeout=10) as conn:
        for table in definition.TABLES:
            found = conn.execute(
                "SELECT column_name, is_nullable, column_default, data_type"
                " FROM information_schema.columns WHERE table_name = %s"
                " ORDER BY ordinal_position", (table.name,)).fetchall()
            keyed = set(table.primary_key) | {c.name for c in table.columns if c.primary_key}
            assert [r[0] for r in found] == [c.name for c in table.columns], table.name
            for (name, nullable, default, kind), column in zip(found, table.columns,
                                                               strict=True):
                assert (nullable == "NO") == (column.not_null or name in keyed), name
                assert kind == ("text" if column.kind == "TEXT" else "bigint"), name
                if column.default is not None:
                    assert default is not None and default.startswith(column.default), name
        indexes = {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
        assert {i.name for i in definition.INDEXES} <= indexes
        (version,) = conn.execute("SELECT version FROM schema_version").fetchone()
        assert version == len(MIGRATIONS)


def test_a_released_migration_keeps_its_place() -> None:
    """The baseline is SQLite's v1..v9: renumbering them would re-run history on old files."""
    names = [m.__name__ for m in MIGRATIONS[:definition.BASELINE_VERSION]]
    assert names[0] == "v1_initial" and names[-1] == "v9_smdr_signals"
