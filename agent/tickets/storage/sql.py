"""The register's statements, written once for SQLite and PostgreSQL (storage.dialect).

``SqlStore`` is what both stores share: the reads outside transactions and the raw
``write()``/``query()`` the runs and SMDR tables use; a backend supplies the connection,
``_read`` and ``_begin`` (how a write transaction starts). ``SqlTransaction`` is the
``storage.Transaction`` of both. On PostgreSQL a transaction locks what it is about
before its first read of it — the site, for "is there already an open ticket?" and the
insert that follows; a ticket's site, for a change by reference; a run, for an engineer
action — so concurrent runs cannot both decide to open. Every transaction locks in that
one order (a site, then the counter row), so they cannot deadlock. SQLite's
``BEGIN IMMEDIATE`` already made the transaction the only writer, so there it locks nothing.
Timestamps are ISO-8601 UTC text on both, which sorts as it reads. No rule lives here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Final, Protocol

from agent.maintenance import Window
from agent.tickets.classify import Priority
from agent.tickets.flapping import Event
from agent.tickets.lifecycle import CLOSED_STATES, Resolution
from agent.tickets.model import (
    AuditEntry,
    EngineerAction,
    Occurrence,
    OccurrenceKind,
    OutboxMessage,
    OutboxStatus,
    SentEscalation,
    Ticket,
    TicketNotFound,
    iso,
)
from agent.tickets.rules import DedupKey, StateMove, Upgrade
from agent.tickets.storage import rows
from agent.tickets.storage.dialect import Db, Dialect

#: The closed states are a constant of the code, so they are a literal list in the SQL.
_OPEN: Final = (" t.state NOT IN ("
                + ", ".join(f"'{state}'" for state in sorted(CLOSED_STATES)) + ")")
_WINDOWS: Final = (
    "SELECT * FROM maintenance WHERE (? IS NULL OR site_id = ?) AND (? IS NULL OR id = ?)"
    " AND (? IS NULL OR (starts_at <= ? AND ends_at > ?"
    " AND (ended_at IS NULL OR ended_at > ?))) ORDER BY starts_at DESC, id DESC LIMIT 1000")


class _Closable(Protocol):
    def close(self) -> None: ...


class SqlStore:
    """The reads every register database answers with the same SQL."""

    dialect: Dialect
    #: The schema version the last ``open()`` found (before migrating), for ``register migrate``.
    migrated_from: int | None = None

    def open(self) -> None:
        raise NotImplementedError

    #: The backend's one connection (None when closed) and the lock a fleet's threads
    #: share it under; set by the backend's constructor.
    _conn: _Closable | None
    _lock: threading.RLock

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def schema_version(self) -> int:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _begin(self) -> AbstractContextManager[Db]:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        return _transaction(self)

    def list_tickets(self, *, open_only: bool, site_id: str | None,
                     since: datetime | None) -> list[Ticket]:
        found = self._read(
            f"{rows.TICKET_SELECT} WHERE (? = 0 OR{_OPEN})"
            " AND (? IS NULL OR t.site_id = ?) AND (? IS NULL OR t.opened_at >= ?)"
            " ORDER BY t.opened_at, t.ref",
            (int(open_only), site_id, site_id, rows.iso_or_none(since),
             rows.iso_or_none(since)))
        return [rows.ticket(r) for r in found]

    def get(self, ref: str) -> Ticket:
        found = self._read(f"{rows.TICKET_SELECT} WHERE t.ref = ?", (ref,))
        if not found:
            raise TicketNotFound(ref)
        return rows.ticket(found[0])

    def occurrences(self, ref: str) -> list[Occurrence]:
        found = self._read("SELECT * FROM occurrences WHERE ref = ? ORDER BY seen_at, id", (ref,))
        return [Occurrence(ref=r["ref"], run_id=r["run_id"], seen_at=rows.dt(r["seen_at"]),
                           kind=r["kind"], priority=rows.priority_or_none(r["priority"]),
                           playbook=r["playbook"])
                for r in found]

    def audit_entries(self, ref: str) -> list[AuditEntry]:
        found = self._read("SELECT * FROM audit WHERE ref = ? ORDER BY id", (ref,))
        return [AuditEntry(ref=r["ref"], at=rows.dt(r["at"]), who=r["who"], action=r["action"],
                           detail=r["detail"]) for r in found]

    def sent_escalations(self, ref: str | None) -> list[SentEscalation]:
        found = self._read("SELECT * FROM escalations_sent WHERE (? IS NULL OR ref = ?)"
                           " ORDER BY sent_at, ref, level", (ref, ref))
        return [SentEscalation(r["ref"], r["level"], rows.dt(r["due"]), rows.dt(r["sent_at"]),
                               r["who"]) for r in found]

    def outbox(self, *, status: OutboxStatus | None, ref: str | None,
               channel: str | None) -> list[OutboxMessage]:
        found = self._read(
            "SELECT * FROM outbox WHERE (? IS NULL OR status = ?) AND (? IS NULL OR ref = ?)"
            " AND (? IS NULL OR channel = ?) ORDER BY id",
            (status, status, ref, ref, channel, channel))
        return [rows.message(r) for r in found]

    def windows(self, *, site_id: str | None, at: datetime | None) -> list[Window]:
        """Every window (of one site), or those covering ``at``; oldest first."""
        return _windows(self._read, site_id, at)

    # --- for other record kinds (storage/runs.py, storage/smdr.py) -----------------------

    def write(self) -> AbstractContextManager[Db]:
        """One write transaction on the raw connection, for a store of another kind of
        record kept in the same database and migrations."""
        return self._begin()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._read(sql, params)


def _transaction(store: SqlStore) -> AbstractContextManager[SqlTransaction]:
    from contextlib import contextmanager

    @contextmanager
    def opened() -> Iterator[SqlTransaction]:
        with store._begin() as db:
            yield SqlTransaction(db, store.dialect)

    return opened()


class SqlTransaction:
    """The statements of one write transaction (see ``storage.Transaction``)."""

    def __init__(self, db: Db, dialect: Dialect) -> None:
        self._db = db
        self._dialect = dialect
        self._locked: set[str] = set()

    # --- locks (PostgreSQL; SQLite's transaction already excludes every other writer) ---

    def _lock(self, key: str) -> None:
        if self._dialect.name == "sqlite" or key in self._locked:
            return
        self._dialect.lock(self._db, key)
        self._locked.add(key)

    def _lock_site(self, site_id: str) -> None:
        self._lock(f"site:{site_id}")

    def _lock_ref(self, ref: str) -> None:
        """Lock the site a ticket (or engineer action) belongs to before touching it."""
        if self._dialect.name == "sqlite" or f"ref:{ref}" in self._locked:
            return
        row = self._db.execute(
            "SELECT site_id FROM tickets WHERE ref = ? UNION ALL"
            " SELECT site_id FROM engineer_actions WHERE ref = ?", (ref, ref)).fetchone()
        if row is not None:
            self._lock_site(str(row[0]))
            self._locked.add(f"ref:{ref}")

    # --- tickets -------------------------------------------------------------------------

    def find_open(self, key: DedupKey) -> Ticket | None:
        self._lock_site(key.site_id)
        row = self._db.execute(
            f"{rows.TICKET_SELECT} WHERE t.site_id = ? AND t.signature = ? AND{_OPEN}",
            (key.site_id, key.signature)).fetchone()
        return None if row is None else rows.ticket(row)

    def open_tickets(self, site_id: str) -> list[Ticket]:
        self._lock_site(site_id)
        return [rows.ticket(r) for r in self._db.execute(
            f"{rows.TICKET_SELECT} WHERE t.site_id = ? AND{_OPEN} ORDER BY t.opened_at, t.ref",
            (site_id,)).fetchall()]

    def get(self, ref: str) -> Ticket:
        self._lock_ref(ref)
        row = self._db.execute(f"{rows.TICKET_SELECT} WHERE t.ref = ?", (ref,)).fetchone()
        if row is None:
            raise TicketNotFound(ref)
        return rows.ticket(row)

    def bump_counter(self, name: str) -> int:
        """The counter's next value; its row stays locked until commit, and a rolled back
        transaction gives nothing away (the increment is rolled back with it)."""
        return int(self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name)"
            " DO UPDATE SET value = counters.value + 1 RETURNING value", (name,)).fetchall()[0][0])

    def insert_ticket(self, ticket: Ticket) -> None:
        self._lock_site(ticket.site_id)
        self._db.execute(rows.TICKET_INSERT, rows.ticket_values(ticket))
        self._locked.add(f"ref:{ticket.ref}")

    def insert_action(self, action: EngineerAction) -> bool:
        """Insert unless this run already has its action; True when a row was added."""
        self._lock(f"run:{action.run_id}")
        cursor = self._db.execute(
            "INSERT INTO engineer_actions (ref, site_id, customer, run_id, kind,"
            " detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (action.ref, action.site_id, action.customer, action.run_id, action.kind,
             action.detail, iso(action.created_at)))
        return int(cursor.rowcount) == 1

    def action_for_run(self, run_id: str) -> EngineerAction | None:
        self._lock(f"run:{run_id}")
        row = self._db.execute("SELECT * FROM engineer_actions WHERE run_id = ?",
                               (run_id,)).fetchone()
        if row is None:
            return None
        return EngineerAction(ref=row["ref"], site_id=row["site_id"], customer=row["customer"],
                              run_id=row["run_id"], kind=row["kind"], detail=row["detail"],
                              created_at=datetime.fromisoformat(row["created_at"]))

    def add_occurrence(self, ref: str, *, run_id: str, at: datetime, kind: OccurrenceKind,
                       priority: Priority | None, playbook: str | None = None) -> bool:
        """Insert unless this run was already recorded; True when a row was added."""
        self._lock_ref(ref)
        cursor = self._db.execute(
            "INSERT INTO occurrences (ref, run_id, seen_at, kind, priority, playbook)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (ref, run_id, iso(at), kind, priority, playbook))
        return int(cursor.rowcount) == 1

    def set_identity(self, ref: str, *, signature: str) -> None:
        self._update(ref, "UPDATE tickets SET signature = ? WHERE ref = ?", (signature, ref))

    def last_kind(self, ref: str) -> str | None:
        row = self._db.execute("SELECT kind FROM occurrences WHERE ref = ? ORDER BY seen_at"
                               " DESC, id DESC LIMIT 1", (ref,)).fetchone()
        return None if row is None else str(row["kind"])

    def history_since(self, ref: str, since: datetime) -> list[Event]:
        """The window's occurrences, plus the one before it (a transition may straddle it)."""
        found = self._db.execute(
            "SELECT seen_at, kind, id FROM (SELECT seen_at, kind, id FROM occurrences"
            " WHERE ref = ? AND seen_at < ? ORDER BY seen_at DESC, id DESC LIMIT 1) AS before"
            " UNION ALL SELECT seen_at, kind, id FROM occurrences WHERE ref = ? AND seen_at >= ?"
            " ORDER BY seen_at, id", (ref, iso(since), ref, iso(since))).fetchall()
        return [(rows.dt(r["seen_at"]), str(r["kind"])) for r in found]

    def note_run(self, ref: str, *, run_id: str, answers: Mapping[str, Any],
                 transcript: str | None, excerpt: str) -> None:
        """Keep the newest run id and transcript (an empty excerpt keeps the last one)."""
        self._update(
            ref,
            "UPDATE tickets SET last_run_id = ?, answers = ?, transcript = COALESCE(?, transcript),"
            " excerpt = CASE WHEN ? = '' THEN excerpt ELSE ? END WHERE ref = ?",
            (run_id, rows.answers_json(dict(answers)), transcript, excerpt, excerpt, ref))

    def apply_upgrade(self, ref: str, change: Upgrade) -> None:
        c = change.classification
        self._update(
            ref,
            "UPDATE tickets SET priority = ?, title = ?, fault_class = ?, rule = ?, summary = ?,"
            " evidence = ?, response_due = ?, parts_due = ? WHERE ref = ?",
            (c.priority, c.title, c.fault_class, c.rule, c.summary, json.dumps(list(c.evidence)),
             iso(change.response_due), rows.iso_or_none(change.parts_due), ref))

    def set_non_covered(self, ref: str, text: str) -> None:
        self._update(ref, "UPDATE tickets SET non_covered = ? WHERE ref = ?", (text, ref))

    def mark_flapping(self, ref: str, since: datetime) -> None:
        self._update(ref, "UPDATE tickets SET flapping = 1, flapping_since = ? WHERE ref = ?",
                     (iso(since), ref))

    def move(self, ref: str, change: StateMove) -> None:
        self._update(
            ref, "UPDATE tickets SET state = ?, responded_at = COALESCE(responded_at, ?)"
            " WHERE ref = ?", (change.target, rows.iso_or_none(change.responded_at), ref))

    def set_visit(self, ref: str, *, visit_date: date, engineer: str,
                  parts: list[str]) -> None:
        self._update(
            ref, "UPDATE tickets SET visit_date = ?, visit_engineer = ?, visit_parts = ?"
            " WHERE ref = ?", (visit_date.isoformat(), engineer, json.dumps(parts), ref))

    def set_resolution(self, ref: str, how: Resolution, at: datetime) -> None:
        self._update(ref, "UPDATE tickets SET resolution = ?, resolved_at = ? WHERE ref = ?",
                     (how, iso(at), ref))

    def record_escalation(self, sent: SentEscalation) -> bool:
        """The primary key (ref, level) is the guard: racing senders, one row, one mail."""
        cursor = self._db.execute(
            "INSERT INTO escalations_sent (ref, level, due, sent_at, who)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (sent.ref, sent.level, iso(sent.due), iso(sent.sent_at), sent.who))
        return int(cursor.rowcount) == 1

    def audit(self, entry: AuditEntry) -> None:
        self._update(entry.ref, "INSERT INTO audit (ref, at, who, action, detail)"
                     " VALUES (?, ?, ?, ?, ?)",
                     (entry.ref, iso(entry.at), entry.who, entry.action, entry.detail))

    def _update(self, ref: str, sql: str, params: Sequence[Any]) -> None:
        self._lock_ref(ref)
        self._db.execute(sql, params)

    # --- the outbox ----------------------------------------------------------------------

    def next_seq(self, ref: str) -> int:
        self._lock_ref(ref)
        return 1 + int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox"
                                        " WHERE ref = ?", (ref,)).fetchone()[0])

    def enqueue(self, *, ref: str, seq: int, event: str, channel: str,
                payload: Mapping[str, Any], at: datetime) -> None:
        self._update(
            ref,
            "INSERT INTO outbox (ref, seq, event, channel, payload, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref, seq, event, channel, json.dumps(payload, sort_keys=True), iso(at), iso(at)))

    def claim_due(self, *, at: datetime, owner: str,
                  lease_until: datetime) -> OutboxMessage | None:
        """Per ticket and channel first in, first out; an expired lease may be claimed.

        On PostgreSQL the row is taken ``FOR UPDATE SKIP LOCKED``: a flusher passes over
        a row another is claiming, and re-checks a row claimed meanwhile (its lease is
        then in the future), so no two flushers ever hold the same message.
        """
        now = iso(at)
        row = self._db.execute(
            "SELECT o.id FROM outbox AS o WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
            " AND (o.lease_until IS NULL OR o.lease_until <= ?)"
            " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.ref = o.ref"
            "   AND e.channel = o.channel AND e.status = 'pending' AND e.id < o.id)"
            f" ORDER BY o.next_attempt_at, o.id LIMIT 1{self._dialect.skip_locked}",
            (now, now)).fetchone()
        if row is None:
            return None
        claimed = self._db.execute(
            "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1"
            " WHERE id = ? RETURNING *", (owner, iso(lease_until), row[0])).fetchall()[0]
        return rows.message(claimed)

    def finish(self, message_id: int, *, owner: str, status: OutboxStatus,
               sent_at: datetime | None, error: str | None, next_at: datetime) -> bool:
        cursor = self._db.execute(
            "UPDATE outbox SET status = ?, sent_at = COALESCE(?, sent_at), last_error = ?,"
            " next_attempt_at = ?, lease_owner = NULL, lease_until = NULL"
            " WHERE id = ? AND lease_owner = ? AND status = 'pending'",
            (status, rows.iso_or_none(sent_at), error, iso(next_at), message_id, owner))
        return int(cursor.rowcount) == 1

    def retry_now(self, *, at: datetime) -> int:
        """Make every message waiting in back-off due at ``at`` (``outbox flush --now``);
        a leased one is left to its flusher."""
        cursor = self._db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending'"
            " AND next_attempt_at > ? AND (lease_until IS NULL OR lease_until <= ?)",
            (iso(at), iso(at), iso(at)))
        return int(cursor.rowcount)

    # --- maintenance windows ------------------------------------------------------------

    def add_window(self, *, site_id: str, starts: datetime, ends: datetime, reason: str,
                   who: str, at: datetime) -> Window:
        self._lock_site(site_id)
        row = self._db.execute(
            "INSERT INTO maintenance (site_id, starts_at, ends_at, reason, set_by, set_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (site_id, iso(starts), iso(ends), reason, who, iso(at))).fetchall()[0]
        return _windows(self._execute, None, None, window_id=int(row[0]))[0]

    def end_windows(self, *, site_id: str, who: str, at: datetime) -> list[Window]:
        """End now every window of the site that has not ended (a future one never starts)."""
        self._lock_site(site_id)
        ids = [int(r["id"]) for r in self._db.execute(
            "SELECT id FROM maintenance WHERE site_id = ? AND ended_at IS NULL AND ends_at > ?"
            " ORDER BY id LIMIT 1000", (site_id, iso(at))).fetchall()]
        ended = []
        for window_id in ids:
            self._db.execute("UPDATE maintenance SET ended_at = ?, ended_by = ? WHERE id = ?",
                             (iso(at), who, window_id))
            ended += _windows(self._execute, None, None, window_id=window_id)
        return ended

    def _execute(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return list(self._db.execute(sql, params).fetchall())


def _windows(read: Any, site_id: str | None, at: datetime | None, *,
             window_id: int | None = None) -> list[Window]:
    """The newest 1,000 windows that match, oldest first."""
    moment = rows.iso_or_none(at)
    found = read(_WINDOWS, (site_id, site_id, window_id, window_id, moment, moment, moment,
                            moment))
    return [Window(site_id=r["site_id"], starts=rows.dt(r["starts_at"]), ends=rows.dt(r["ends_at"]),
                   reason=r["reason"], source="register", set_by=r["set_by"],
                   set_at=rows.dt(r["set_at"]), id=r["id"],
                   ended_at=rows.dt_or_none(r["ended_at"]), ended_by=r["ended_by"])
            for r in reversed(found)]
