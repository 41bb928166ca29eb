"""``pbxdiag register copy``: every table of one register into an empty one.

A desk moving up from its SQLite file to PostgreSQL (or back) copies the register whole:
every row of every table of ``definition.TABLES``, with its id, and the counters, so the
next fault reference filed on the target follows the last one filed on the source and
none is ever reused. The target is written in one transaction (a failure leaves it
empty) and must be empty to begin with: a copy never merges two registers. The source is
read inside one transaction too (on SQLite that also holds off its writers meanwhile).
Both are brought to the current schema first, as any open does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from agent.errors import InputError
from agent.tickets.storage import definition
from agent.tickets.storage.backends import store_for
from agent.tickets.storage.dialect import Db, placeholders
from agent.tickets.storage.location import RegisterLocation, describe

BATCH: Final = 1000  # rows read and written per statement round


@dataclass(frozen=True, slots=True)
class CopyReport:
    source: str
    target: str
    schema_version: int
    rows: dict[str, int]


def copy_register(source: RegisterLocation, target: RegisterLocation) -> CopyReport:
    if describe(source) == describe(target):
        raise InputError(f"--to {describe(target)}: is the same register as --from")
    src, dst = store_for(source), store_for(target)
    src.open()
    try:
        dst.open()
        try:
            counts: dict[str, int] = {}
            with src.write() as reading, dst.write() as writing:
                busy = [t.name for t in definition.TABLES if _count(writing, t.name)]
                if busy:
                    raise InputError(f"--to {describe(target)}: the target register is not "
                                     f"empty (rows in {', '.join(busy)}): copy only into an "
                                     "empty one")
                for table in definition.TABLES:
                    counts[table.name] = _copy_table(reading, writing, table)
                if dst.dialect.name == "postgresql":
                    _follow_ids(writing)
            return CopyReport(source=describe(source), target=describe(target),
                              schema_version=dst.schema_version, rows=counts)
        finally:
            dst.close()
    finally:
        src.close()


def _count(db: Db, table: str) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchall()[0][0])


def _copy_table(reading: Db, writing: Db, table: definition.Table) -> int:
    columns = [c.name for c in table.columns]
    order = ", ".join(table.primary_key or [c.name for c in table.columns if c.primary_key]
                      or columns)
    select = f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {order} LIMIT ? OFFSET ?"
    insert = (f"INSERT INTO {table.name} ({', '.join(columns)})"
              f" VALUES ({placeholders(len(columns))})")
    copied = 0
    while True:
        found = reading.execute(select, (BATCH, copied)).fetchall()
        if not found:
            return copied
        writing.executemany(insert, [tuple(row[n] for n in range(len(columns)))
                                     for row in found])
        copied += len(found)


def _follow_ids(writing: Db) -> None:
    """Move each identity past the ids copied in, so new rows never collide with them."""
    for name in definition.id_tables():
        writing.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                        f" COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)")
