"""What the SMDR monitor collected, in the register (migration ``v7_smdr_items``; SQLite
or PostgreSQL, the same SQL).

Beside the tickets rather than in them: a call record is not a fault, but the alarm
lines among them become tickets, and keeping both in one SQLite file means one backup,
one ``--db`` and one set of migrations. Every write is one ``BEGIN IMMEDIATE``
transaction of the register's own store, so a batch of items and the site's committed
position move together: after a crash (SIGKILL included) either the whole batch is
stored or none of it is, and the next connection's re-read puts back what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from agent.tickets.model import iso
from agent.tickets.storage.backends import store_for
from agent.tickets.storage.dialect import placeholders
from agent.tickets.storage.handle import StoreHandle
from agent.tickets.storage.location import RegisterLocation
from agent.tickets.storage.rows import dt
from agent.tickets.storage.sql import SqlStore

MAX_LISTED: Final = 100_000  # rows one ``calls`` query returns at most
KINDS: Final = frozenset({"record", "alarm"})


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A stored record or alarm line with its committed position."""

    id: int
    site_id: str
    pos: int
    kind: str
    at: str | None
    raw: str
    data: dict[str, Any]
    stored_at: datetime
    connection: int
    filed: str | None


@dataclass(frozen=True, slots=True)
class NewItem:
    kind: str
    raw: str
    at: str | None
    data: dict[str, Any]


class SmdrLog(StoreHandle[SqlStore]):
    """The monitor's records in the register file; one connection, shared by threads."""

    def __init__(self, location: RegisterLocation | str, *,
                 busy_timeout_s: float = 30.0) -> None:
        self._store = store_for(location, busy_timeout_s=busy_timeout_s)

    # --- connections -------------------------------------------------------------------

    def begin_connection(self, site_id: str, *, now: datetime) -> tuple[int, bool]:
        """Number a new streaming connection; True when the monitor had streamed from this
        site before (its own leaving then explains the next 510 the PBX prints)."""
        with self._store.write() as conn:
            conn.execute("INSERT INTO smdr_sites (site_id, updated_at) VALUES (?, ?)"
                         " ON CONFLICT DO NOTHING",
                         (site_id, iso(now)))
            row = conn.execute("SELECT connections, streamed FROM smdr_sites WHERE site_id = ?"
                               + self._store.dialect.for_update, (site_id,)).fetchone()
            number, streamed = int(row[0]) + 1, bool(row[1])
            conn.execute("UPDATE smdr_sites SET connections = ?, streamed = 1, excused = ?,"
                         " updated_at = ? WHERE site_id = ?",
                         (number, number if streamed else None, iso(now), site_id))
            return number, streamed

    def take_excuse(self, site_id: str, connection: int) -> bool:
        """Use up the excuse for one 510 on ``connection``; False if there is none."""
        with self._store.write() as conn:
            cursor = conn.execute("UPDATE smdr_sites SET excused = NULL WHERE site_id = ?"
                                  " AND excused = ?", (site_id, connection))
            return int(cursor.rowcount) == 1

    # --- items -------------------------------------------------------------------------

    def tail(self, site_id: str, limit: int) -> list[str]:
        """The raw lines of the last ``limit`` stored items, oldest first."""
        found = self._store.query("SELECT raw FROM smdr_items WHERE site_id = ?"
                                  " ORDER BY pos DESC LIMIT ?", (site_id, limit))
        return [str(r["raw"]) for r in reversed(found)]

    def position(self, site_id: str) -> int:
        """The site's committed position: the last item stored (0: none yet)."""
        found = self._store.query("SELECT position FROM smdr_sites WHERE site_id = ?",
                                  (site_id,))
        return int(found[0][0]) if found else 0

    def prune(self, site_id: str, *, before: datetime) -> int:
        """Delete the site's call records stored before ``before`` (their retention is
        over); alarm lines stay — they are evidence of tickets."""
        with self._store.write() as conn:
            cursor = conn.execute("DELETE FROM smdr_items WHERE site_id = ? AND kind = 'record'"
                                  " AND stored_at < ?", (site_id, iso(before)))
            return int(cursor.rowcount)

    def append(self, site_id: str, items: Sequence[NewItem], *, connection: int,
               now: datetime) -> list[StoredItem]:
        """Store a batch after the site's last position, all or nothing."""
        if not items:
            return []
        with self._store.write() as conn:
            conn.execute("INSERT INTO smdr_sites (site_id, updated_at) VALUES (?, ?)"
                         " ON CONFLICT DO NOTHING",
                         (site_id, iso(now)))
            last = int(conn.execute("SELECT position FROM smdr_sites WHERE site_id = ?"
                                    + self._store.dialect.for_update,
                                    (site_id,)).fetchone()[0])
            conn.execute("UPDATE smdr_sites SET position = ?, updated_at = ? WHERE site_id = ?",
                         (last + len(items), iso(now), site_id))
            conn.executemany(
                "INSERT INTO smdr_items (site_id, pos, kind, at, raw, data, stored_at,"
                " connection) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(site_id, last + n, i.kind, i.at, i.raw, json.dumps(i.data, sort_keys=True),
                  iso(now), connection) for n, i in enumerate(items, 1)])
            found = conn.execute("SELECT * FROM smdr_items WHERE site_id = ? AND pos > ?"
                                 " ORDER BY pos", (site_id, last)).fetchall()
        return [_item(r) for r in found]

    def unfiled_alarms(self, site_id: str, limit: int = 10_000) -> list[StoredItem]:
        found = self._store.query("SELECT * FROM smdr_items WHERE site_id = ? AND kind ="
                                  " 'alarm' AND filed IS NULL ORDER BY pos LIMIT ?",
                                  (site_id, limit))
        return [_item(r) for r in found]

    def mark_filed(self, item_id: int, how: str) -> None:
        with self._store.write() as conn:
            conn.execute("UPDATE smdr_items SET filed = ? WHERE id = ?", (how, item_id))

    def items(self, *, site_id: str, kinds: Iterable[str] = ("record",),
              since: str | None = None, limit: int = MAX_LISTED) -> list[StoredItem]:
        """A site's items of some kinds in stored order, those printed at or after
        ``since`` (PBX local ISO text, which sorts as it reads)."""
        wanted = sorted(set(kinds) & KINDS)
        if not wanted:
            return []
        found = self._store.query(
            f"SELECT * FROM smdr_items WHERE site_id = ? AND kind IN ({placeholders(len(wanted))})"
            " AND (? IS NULL OR at >= ?) ORDER BY pos LIMIT ?",
            (site_id, *wanted, since, since, min(limit, MAX_LISTED)))
        return [_item(r) for r in found]


    # --- signals (agent/smdr/signals.py) ----------------------------------------------

    def last_stored(self, site_id: str) -> datetime | None:
        """When the monitor last stored a new item of the site (our clock, UTC)."""
        found = self._store.query("SELECT MAX(stored_at) FROM smdr_items WHERE site_id = ?",
                                  (site_id,))
        return dt(found[0][0]) if found and found[0][0] else None

    def first_record_at(self, site_id: str) -> str | None:
        """The PBX-local time of the earliest stored call record (the history's start)."""
        found = self._store.query("SELECT MIN(at) FROM smdr_items WHERE site_id = ? AND"
                                  " kind = 'record' AND at IS NOT NULL", (site_id,))
        return str(found[0][0]) if found and found[0][0] else None

    def outgoing_at(self, site_id: str, *, since: str, limit: int = MAX_LISTED) -> list[str]:
        """PBX-local times of the outgoing calls over a CO line printed at or after
        ``since`` (local ISO text), oldest first — what the baseline is built from."""
        found = self._store.query(
            "SELECT at FROM smdr_items WHERE site_id = ? AND kind = 'record' AND at >= ?"
            f" AND {self._store.dialect.json_text('data', 'direction')} = 'outgoing'"
            f" AND COALESCE({self._store.dialect.json_text('data', 'co')}, '') != ''"
            " ORDER BY at LIMIT ?",
            (site_id, since, min(limit, MAX_LISTED)))
        return [str(r[0]) for r in found]

    def claim_signal(self, site_id: str, signal: str, *, window: datetime,
                     detected_at: datetime, detail: dict[str, Any]) -> int | None:
        """Claim the signal's window for one confirming run; None if already claimed."""
        with self._store.write() as conn:
            found = conn.execute(
                "INSERT INTO smdr_signals (site_id, signal, window_start, detected_at, detail)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (site_id, signal, iso(window), iso(detected_at),
                 json.dumps(detail, sort_keys=True))).fetchall()
            return int(found[0][0]) if found else None

    def record_signal_run(self, claim: int, *, run_id: str | None, outcome: str) -> None:
        with self._store.write() as conn:
            conn.execute("UPDATE smdr_signals SET run_id = ?, outcome = ? WHERE id = ?",
                         (run_id, outcome, claim))

    def signals(self, site_id: str, limit: int = 1000) -> list[SignalRow]:
        """The site's signals, newest first, with the run each started."""
        found = self._store.query("SELECT * FROM smdr_signals WHERE site_id = ?"
                                  " ORDER BY id DESC LIMIT ?", (site_id, limit))
        return [SignalRow(id=int(r["id"]), site_id=r["site_id"], signal=r["signal"],
                          window=dt(r["window_start"]), detected_at=dt(r["detected_at"]),
                          detail=json.loads(r["detail"]), run_id=r["run_id"],
                          outcome=r["outcome"]) for r in found]


@dataclass(frozen=True, slots=True)
class SignalRow:
    """A claimed signal window and the confirming run it started (None: not yet)."""

    id: int
    site_id: str
    signal: str
    window: datetime
    detected_at: datetime
    detail: dict[str, Any]
    run_id: str | None
    outcome: str | None


def _item(r: Any) -> StoredItem:
    return StoredItem(id=int(r["id"]), site_id=r["site_id"], pos=int(r["pos"]), kind=r["kind"],
                      at=r["at"], raw=r["raw"], data=json.loads(r["data"]),
                      stored_at=dt(r["stored_at"]), connection=int(r["connection"]),
                      filed=r["filed"])
