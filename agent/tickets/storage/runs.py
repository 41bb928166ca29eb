"""Every run in the register, from its start (migration ``v8_runs``; SQLite or PostgreSQL).

A row is written when a run starts and completed when it ends, so a fleet started from
cron shows on the board while it runs, and a site's last health check — when, which
playbook, over which path, how it ended — is one query. Rows of runs that never finished
(the process was killed) stay open; the board shows them as started, not as running
forever: ``in_progress`` only counts rows younger than ``STALE_AFTER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from agent.tickets.model import iso
from agent.tickets.storage.backends import store_for
from agent.tickets.storage.handle import StoreHandle
from agent.tickets.storage.location import RegisterLocation
from agent.tickets.storage.rows import dt, dt_or_none
from agent.tickets.storage.sql import SqlStore

#: A run still open after this long was killed, not slow (reach 180 s + a playbook).
STALE_AFTER: Final = timedelta(hours=2)
MAX_LISTED: Final = 10_000


@dataclass(frozen=True, slots=True)
class RunRow:
    run_id: str
    site_id: str
    playbook: str
    fleet_id: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str | None
    exit_code: int | None
    path: str | None
    #: The ticket the run filed or added to (its first fault occurrence), when asked for.
    ticket: str | None = None


class RunLog(StoreHandle[SqlStore]):
    """The runs table; ``started`` and ``finished`` are each one transaction."""

    def __init__(self, location: RegisterLocation | str, *,
                 busy_timeout_s: float = 30.0) -> None:
        self._store = store_for(location, busy_timeout_s=busy_timeout_s)

    def started(self, *, run_id: str, site_id: str, playbook: str, at: datetime,
                fleet_id: str | None = None) -> None:
        with self._store.write() as conn:
            conn.execute("INSERT INTO runs (run_id, site_id, playbook, fleet_id, started_at)"
                         " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         (run_id, site_id, playbook, fleet_id, iso(at)))

    def finished(self, *, run_id: str, at: datetime, status: str, exit_code: int,
                 path: str | None) -> None:
        with self._store.write() as conn:
            conn.execute("UPDATE runs SET finished_at = ?, status = ?, exit_code = ?, path = ?"
                         " WHERE run_id = ?", (iso(at), status, exit_code, path, run_id))

    def recent(self, *, since: datetime, site_id: str | None = None) -> list[RunRow]:
        """Runs started since ``since`` (of one site), newest first."""
        found = self._store.query(
            "SELECT * FROM runs WHERE started_at >= ? AND (? IS NULL OR site_id = ?)"
            " ORDER BY started_at DESC LIMIT ?", (iso(since), site_id, site_id, MAX_LISTED))
        return [_row(r) for r in found]

    def of_fleet(self, fleet_id: str) -> list[RunRow]:
        """A fleet's runs, one per site, with the ticket each filed (``--status``, and
        the Celery submitter's summary)."""
        found = self._store.query(
            "SELECT r.*, (SELECT o.ref FROM occurrences AS o WHERE o.run_id = r.run_id"
            " AND o.kind = 'fault' ORDER BY o.id LIMIT 1) AS ticket"
            " FROM runs AS r WHERE r.fleet_id = ? ORDER BY r.site_id LIMIT ?",
            (fleet_id, MAX_LISTED))
        return [_row(r, ticket=r["ticket"]) for r in found]

    def in_progress(self, *, now: datetime) -> list[RunRow]:
        found = self._store.query(
            "SELECT * FROM runs WHERE finished_at IS NULL AND started_at >= ?"
            " ORDER BY started_at LIMIT ?", (iso(now - STALE_AFTER), MAX_LISTED))
        return [_row(r) for r in found]


def _row(row: Any, *, ticket: str | None = None) -> RunRow:
    return RunRow(run_id=row["run_id"], site_id=row["site_id"], playbook=row["playbook"],
                  ticket=ticket, fleet_id=row["fleet_id"], started_at=dt(row["started_at"]),
                  finished_at=dt_or_none(row["finished_at"]), status=row["status"],
                  exit_code=row["exit_code"], path=row["path"])
