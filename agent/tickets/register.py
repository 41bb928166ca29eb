"""The fault register: tickets, SLA clocks, occurrences, audit trail and outbox, in SQLite.

Several processes (a fleet run, a support engineer's CLI, cron) write at once, so every
change is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken *before* the
"is there already an open ticket?" read, which is what keeps a scheduled health check from
opening duplicates, and fault references come from a counter row bumped in the same
transaction, so they are unique and never reused. WAL lets readers run beside a writer.
Every notification a change causes is queued in the outbox *inside that transaction*, so
a crash can neither lose it (the change committed, so did the row) nor invent one.
Timestamps are stored as ISO-8601 UTC text, which sorts as it reads.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from agent.errors import InputError
from agent.tickets.classify import PRIORITY_RANK, Classification, Priority, is_priority
from agent.tickets.flapping import FLAP_WINDOW, Event, is_flapping
from agent.tickets.lifecycle import (
    CLOSED_STATES,
    LOGGED,
    RESOLUTION_STATES,
    RESPONSE_STATES,
    VISIT_BOOKED,
    Resolution,
    check_state,
    check_transition,
    is_open,
)
from agent.tickets.model import (
    CHANNELS,
    AuditEntry,
    Channel,
    Occurrence,
    OccurrenceKind,
    OutboxMessage,
    OutboxStatus,
    Outcome,
    RunDetails,
    SentEscalation,
    Ticket,
    TicketNotFound,
)
from agent.tickets.outbox import build_payload
from agent.tickets.schema import MIGRATIONS, SCHEMA_VERSION
from agent.tickets.sla import Contract, deadlines

__all__ = [
    "CLOSED_STATES",
    "OPENED_STATE",
    "REF_PREFIX",
    "SCHEMA_VERSION",
    "AuditEntry",
    "Occurrence",
    "OutboxMessage",
    "Outcome",
    "Register",
    "RunDetails",
    "SentEscalation",
    "Ticket",
    "TicketNotFound",
]

OPENED_STATE: Final = LOGGED
REF_PREFIX: Final = "FR"
#: Queries bind the closed states as one JSON parameter: ``state NOT IN (SELECT … json_each)``.
_CLOSED_JSON: Final = json.dumps(list(CLOSED_STATES))


class Register:
    """The ticket register in one SQLite file; use as a context manager or ``open()``."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        # One connection may be shared by a fleet's threads; transactions must not interleave.
        self._lock = threading.RLock()

    def open(self) -> Self:
        if self._conn is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                               check_same_thread=False)
        try:
            with _opening_lock(self.path):
                _configure(conn, self.busy_timeout_s)
                self._conn = conn
                self._migrate()
        except BaseException:
            self._conn = None
            conn.close()
            raise
        return self

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    # --- faults from runs --------------------------------------------------------------

    def record_fault(self, *, site_id: str, customer: str, classification: Classification,
                     contract: Contract, run_id: str, now: datetime, who: str = "pbxdiag",
                     run: RunDetails | None = None) -> Outcome:
        """Open a ticket for a fault, or add this run to the site's open ticket for it.

        Recording the same run twice (a retry after a crash) changes nothing the second
        time, so a caller may always retry.
        """
        at = _iso(now)
        details = run or RunDetails()
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM tickets WHERE site_id = ? AND signature = ?"
                " AND state NOT IN (SELECT value FROM json_each(?))",
                (site_id, classification.signature, _CLOSED_JSON)).fetchone()
            if row is None:
                ref = _open_ticket(conn, site_id=site_id, customer=customer, c=classification,
                                   contract=contract, run_id=run_id, now=now, who=who,
                                   run=details)
                _notify(conn, ref, "opened", now, detail=classification.summary)
                return Outcome(ticket=_get(conn, ref), opened=True)
            ticket = _ticket(row)
            previous = _last_kind(conn, ticket.ref)
            if not _add_occurrence(conn, ref=ticket.ref, run_id=run_id, at=at, kind="fault",
                                   priority=classification.priority):
                return Outcome(ticket=ticket, opened=False)
            _note_run(conn, ticket, run_id=run_id, at=at, run=details)
            upgraded = _maybe_upgrade(conn, ticket, classification, contract=contract,
                                      now=now, who=who)
            _maybe_note_non_covered(conn, ticket, classification, at=at, who=who)
            if upgraded:
                _notify(conn, ticket.ref, "upgraded", now,
                        detail=f"{ticket.priority} -> {classification.priority}: "
                               f"{classification.summary}")
            elif previous == "all_clear" and not ticket.flapping:
                _notify(conn, ticket.ref, "recurred", now, detail=classification.summary)
            return Outcome(ticket=_get(conn, ticket.ref), opened=False, upgraded=upgraded)

    def record_all_clear(self, *, site_id: str, run_id: str, now: datetime) -> list[Ticket]:
        """Note that a run found the site healthy; closing a ticket stays a human decision.

        The first all-clear after a fault notifies; a fault that keeps clearing and
        returning is marked flapping instead (flapping.py has the rule).
        """
        at = _iso(now)
        with self._write() as conn:
            tickets = [_ticket(r) for r in conn.execute(
                "SELECT * FROM tickets WHERE site_id = ?"
                " AND state NOT IN (SELECT value FROM json_each(?))"
                " ORDER BY opened_at, ref", (site_id, _CLOSED_JSON))]
            for ticket in tickets:
                previous = _last_kind(conn, ticket.ref)
                added = _add_occurrence(conn, ref=ticket.ref, run_id=run_id, at=at,
                                        kind="all_clear", priority=None)
                if added and previous == "fault" and not ticket.flapping:
                    _after_clear(conn, ticket, now)
            return tickets

    # --- lifecycle ---------------------------------------------------------------------

    def set_state(self, ref: str, state: str, *, who: str, now: datetime,
                  note: str = "") -> Ticket:
        """Move a ticket along its lifecycle; a move the table forbids is refused."""
        check_state(state)
        if state == VISIT_BOOKED:
            raise InputError(f"{ref}: a visit needs a date and an engineer: use book-visit")
        for how, resolved_state in RESOLUTION_STATES.items():
            if state == resolved_state:
                return self.resolve(ref, how, who=who, now=now, note=note)
        with self._write() as conn:
            ticket = _get(conn, ref)
            check_transition(ref, ticket.state, state)
            _move(conn, ticket, state, who=who, now=now, note=note)
            return _get(conn, ref)

    def book_visit(self, ref: str, *, visit_date: date, engineer: str,
                   parts: Sequence[str] = (), who: str, now: datetime) -> Ticket:
        """Book (or re-book) an engineer visit with the parts the diagnosis points to."""
        engineer = engineer.strip()
        if not engineer:
            raise InputError(f"{ref}: a visit needs an engineer's name")
        clean_parts = [p.strip() for p in parts if p.strip()]
        with self._write() as conn:
            ticket = _get(conn, ref)
            check_transition(ref, ticket.state, VISIT_BOOKED)
            if visit_date < ticket.opened_at.astimezone(UTC).date():
                raise InputError(f"{ref}: visit date {visit_date} is before the fault was "
                                 f"logged ({ticket.opened_at.date()})")
            conn.execute(
                "UPDATE tickets SET visit_date = ?, visit_engineer = ?, visit_parts = ?"
                " WHERE ref = ?", (visit_date.isoformat(), engineer, json.dumps(clean_parts), ref))
            parts_text = ", ".join(clean_parts) or "none listed"
            note = f"visit {visit_date.isoformat()}, engineer {engineer}, parts: {parts_text}"
            _move(conn, ticket, VISIT_BOOKED, who=who, now=now, note=note)
            return _get(conn, ref)

    def resolve(self, ref: str, how: Resolution, *, who: str, now: datetime,
                note: str = "") -> Ticket:
        """Resolved remotely (first line fixed it) or on site (an engineer did)."""
        target = RESOLUTION_STATES[how]
        with self._write() as conn:
            ticket = _get(conn, ref)
            check_transition(ref, ticket.state, target)
            conn.execute("UPDATE tickets SET resolution = ?, resolved_at = ? WHERE ref = ?",
                         (how, _iso(now), ref))
            _move(conn, ticket, target, who=who, now=now, note=note)
            _notify(conn, ref, "resolved", now,
                    detail=f"resolved {'remotely' if how == 'remote' else 'on site'}"
                           + (f": {note}" if note else ""))
            return _get(conn, ref)

    def add_note(self, ref: str, text: str, *, who: str, now: datetime) -> AuditEntry:
        text = text.strip()
        if not text:
            raise InputError(f"{ref}: a note needs some text")
        with self._write() as conn:
            _get(conn, ref)
            _audit(conn, ref, at=_iso(now), who=who, action="note", detail=text)
        return AuditEntry(ref=ref, at=_dt(_iso(now)), who=who, action="note", detail=text)

    # --- escalation --------------------------------------------------------------------

    def escalate_due(self, *, now: datetime, who: str = "pbxdiag") -> list[SentEscalation]:
        """Send every escalation that has fallen due on an unresolved ticket, each once.

        Each (ticket, level) is its own transaction whose insert into ``escalations_sent``
        is the guard: two cron jobs racing both try, the primary key lets one through.
        """
        due = [(t.ref, level, when) for t in self.list_tickets(open_only=True)
               for level, when in t.escalations if when <= now]
        sent: list[SentEscalation] = []
        for ref, level, when in due:
            with self._write() as conn:
                if _escalate(conn, ref, level, when, now=now, who=who):
                    sent.append(SentEscalation(ref, level, when, _dt(_iso(now)), who))
        return sent

    def sent_escalations(self, ref: str | None = None) -> list[SentEscalation]:
        rows = self._read("SELECT * FROM escalations_sent WHERE (? IS NULL OR ref = ?)"
                          " ORDER BY sent_at, ref, level", (ref, ref))
        return [SentEscalation(r["ref"], r["level"], _dt(r["due"]), _dt(r["sent_at"]), r["who"])
                for r in rows]

    # --- outbox ------------------------------------------------------------------------

    def claim_next(self, *, owner: str, now: datetime,
                   lease: timedelta) -> OutboxMessage | None:
        """Lease the next due notification to ``owner``; None when nothing is due.

        Per ticket and channel the outbox is first in, first out: a message waits while an
        earlier one is pending (so the mail that starts the helpdesk thread goes first).
        A lease that expired (its flusher died mid-send) may be claimed again.
        """
        at = _iso(now)
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM outbox AS o WHERE status = 'pending' AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?)"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.ref = o.ref"
                "   AND e.channel = o.channel AND e.status = 'pending' AND e.id < o.id)"
                " ORDER BY next_attempt_at, id LIMIT 1", (at, at)).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE outbox SET lease_owner = ?, lease_until = ?,"
                         " attempts = attempts + 1 WHERE id = ?",
                         (owner, _iso(now + lease), row["id"]))
            return _message(conn.execute("SELECT * FROM outbox WHERE id = ?",
                                         (row["id"],)).fetchone())

    def finish_delivery(self, message_id: int, *, owner: str, status: OutboxStatus,
                        now: datetime, error: str | None = None,
                        retry_at: datetime | None = None) -> bool:
        """Record how a leased delivery ended and release the lease.

        ``pending`` with ``retry_at`` schedules another attempt; ``sent``, ``skipped`` and
        ``failed`` are final. False when the lease was no longer ours (it expired and
        another flusher took the message): the caller must not assume its outcome stuck.
        """
        next_at = retry_at if status == "pending" and retry_at is not None else now
        sent_at = _iso(now) if status == "sent" else None
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status = ?, sent_at = COALESCE(?, sent_at), last_error = ?,"
                " next_attempt_at = ?, lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ? AND status = 'pending'",
                (status, sent_at, error, _iso(next_at), message_id, owner))
            return cursor.rowcount == 1

    def outbox(self, *, status: OutboxStatus | None = None, ref: str | None = None,
               channel: Channel | None = None) -> list[OutboxMessage]:
        rows = self._read(
            "SELECT * FROM outbox WHERE (? IS NULL OR status = ?) AND (? IS NULL OR ref = ?)"
            " AND (? IS NULL OR channel = ?) ORDER BY id",
            (status, status, ref, ref, channel, channel))
        return [_message(r) for r in rows]

    # --- reads -------------------------------------------------------------------------

    def list_tickets(self, *, open_only: bool = False, site_id: str | None = None,
                     since: datetime | None = None) -> list[Ticket]:
        rows = self._read(
            "SELECT * FROM tickets WHERE (? = 0 OR state NOT IN (SELECT value FROM json_each(?)))"
            " AND (? IS NULL OR site_id = ?) AND (? IS NULL OR opened_at >= ?)"
            " ORDER BY opened_at, ref",
            (int(open_only), _CLOSED_JSON, site_id, site_id,
             _iso_or_none(since), _iso_or_none(since)))
        return [_ticket(r) for r in rows]

    def get(self, ref: str) -> Ticket:
        rows = self._read("SELECT * FROM tickets WHERE ref = ?", (ref,))
        if not rows:
            raise TicketNotFound(ref)
        return _ticket(rows[0])

    def occurrences(self, ref: str) -> list[Occurrence]:
        self.get(ref)
        rows = self._read("SELECT * FROM occurrences WHERE ref = ? ORDER BY seen_at, id", (ref,))
        return [Occurrence(ref=r["ref"], run_id=r["run_id"], seen_at=_dt(r["seen_at"]),
                           kind=r["kind"], priority=_priority_or_none(r["priority"]))
                for r in rows]

    def audit(self, ref: str) -> list[AuditEntry]:
        self.get(ref)
        rows = self._read("SELECT * FROM audit WHERE ref = ? ORDER BY id", (ref,))
        return [AuditEntry(ref=r["ref"], at=_dt(r["at"]), who=r["who"], action=r["action"],
                           detail=r["detail"]) for r in rows]

    # --- plumbing ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("register is not open: use 'with Register(path) as reg:'")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
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

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    def _migrate(self) -> None:
        """Bring the schema up to date; re-read inside the lock so racing openers agree."""
        with self._write() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise InputError(f"register schema version {version} is newer than this "
                                 f"pbxdiag understands ({SCHEMA_VERSION})", path=str(self.path))
            for migration in MIGRATIONS[version:]:
                migration(conn)
            if version != SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")


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


# --- transaction bodies (called inside BEGIN IMMEDIATE) --------------------------------


def _open_ticket(conn: sqlite3.Connection, *, site_id: str, customer: str, c: Classification,
                 contract: Contract, run_id: str, now: datetime, who: str,
                 run: RunDetails) -> str:
    ref = _next_ref(conn, now)
    due = deadlines(c.priority, now, contract)
    at = _iso(now)
    conn.execute(
        "INSERT INTO tickets (ref, site_id, customer, signature, priority, title, fault_class,"
        " rule, summary, evidence, non_covered, state, opened_at, response_due, parts_due,"
        " escalations, contract, calendar, first_seen, last_seen, occurrences, last_run_id,"
        " remote_access_due, answers, transcript, excerpt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
        (ref, site_id, customer, c.signature, c.priority, c.title, c.fault_class, c.rule,
         c.summary, json.dumps(list(c.evidence)), c.non_covered, OPENED_STATE, at,
         _iso(due.response), _iso_or_none(due.parts), _escalations_json(due.escalations),
         contract.name, contract.calendar.describe(), at, at, run_id,
         _iso(due.remote_access), _answers_json(run.answers), run.transcript, run.excerpt))
    _add_occurrence(conn, ref=ref, run_id=run_id, at=at, kind="fault", priority=c.priority)
    detail = f"{c.priority} {c.title} ({c.rule}): {c.summary}; response due {_iso(due.response)}"
    _audit(conn, ref, at=at, who=who, action="opened", detail=detail)
    if c.non_covered:
        _audit(conn, ref, at=at, who=who, action="non_covered_noted", detail=c.non_covered)
    return ref


def _next_ref(conn: sqlite3.Connection, now: datetime) -> str:
    """``FR-YYYY-NNNNNN`` from a per-year counter: sortable, and never handed out twice."""
    year = now.astimezone(UTC).year
    name = f"fault_ref:{year:04d}"
    conn.execute("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)", (name,))
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
    value = int(conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])
    return f"{REF_PREFIX}-{year:04d}-{value:06d}"


def _add_occurrence(conn: sqlite3.Connection, *, ref: str, run_id: str, at: str,
                    kind: OccurrenceKind, priority: Priority | None) -> bool:
    """Insert unless this run was already recorded; True when a row was added."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO occurrences (ref, run_id, seen_at, kind, priority)"
        " VALUES (?, ?, ?, ?, ?)", (ref, run_id, at, kind, priority))
    return cursor.rowcount == 1


def _last_kind(conn: sqlite3.Connection, ref: str) -> str | None:
    row = conn.execute("SELECT kind FROM occurrences WHERE ref = ? ORDER BY seen_at DESC,"
                       " id DESC LIMIT 1", (ref,)).fetchone()
    return None if row is None else str(row["kind"])


def _note_run(conn: sqlite3.Connection, ticket: Ticket, *, run_id: str, at: str,
              run: RunDetails) -> None:
    """Count the occurrence; keep the newest transcript and every front-line answer."""
    answers = {**ticket.answers, **run.answers}
    conn.execute(
        "UPDATE tickets SET occurrences = occurrences + 1, last_seen = max(last_seen, ?),"
        " last_run_id = ?, answers = ?, transcript = COALESCE(?, transcript),"
        " excerpt = CASE WHEN ? = '' THEN excerpt ELSE ? END WHERE ref = ?",
        (at, run_id, _answers_json(answers), run.transcript, run.excerpt, run.excerpt,
         ticket.ref))


def _after_clear(conn: sqlite3.Connection, ticket: Ticket, now: datetime) -> None:
    """A fault → all-clear transition: notify, or mark the ticket flapping (once)."""
    since = now - FLAP_WINDOW
    # The window's occurrences, plus the one before it (a transition may straddle it).
    rows = conn.execute(
        "SELECT seen_at, kind, id FROM (SELECT seen_at, kind, id FROM occurrences"
        " WHERE ref = ? AND seen_at < ? ORDER BY seen_at DESC, id DESC LIMIT 1)"
        " UNION ALL SELECT seen_at, kind, id FROM occurrences WHERE ref = ? AND seen_at >= ?"
        " ORDER BY seen_at, id",
        (ticket.ref, _iso(since), ticket.ref, _iso(since))).fetchall()
    history: list[Event] = [(_dt(r["seen_at"]), str(r["kind"])) for r in rows]
    if not is_flapping(history, now):
        _notify(conn, ticket.ref, "all_clear", now, detail="a run found the site healthy")
        return
    at = _iso(now)
    conn.execute("UPDATE tickets SET flapping = 1, flapping_since = ? WHERE ref = ?",
                 (at, ticket.ref))
    detail = "cleared and returned repeatedly: all-clear and recurrence mails stop"
    _audit(conn, ticket.ref, at=at, who="pbxdiag", action="flapping", detail=detail)
    _notify(conn, ticket.ref, "flapping", now, detail=detail)


def _maybe_upgrade(conn: sqlite3.Connection, ticket: Ticket, c: Classification, *,
                   contract: Contract, now: datetime, who: str) -> bool:
    """A worse verdict raises the priority; the SLA clock only ever gets shorter."""
    if PRIORITY_RANK[c.priority] >= PRIORITY_RANK[ticket.priority]:
        return False
    due = deadlines(c.priority, now, contract)
    response = min(ticket.response_due, due.response)
    parts = min((d for d in (ticket.parts_due, due.parts) if d is not None), default=None)
    conn.execute(
        "UPDATE tickets SET priority = ?, title = ?, fault_class = ?, rule = ?, summary = ?,"
        " evidence = ?, response_due = ?, parts_due = ? WHERE ref = ?",
        (c.priority, c.title, c.fault_class, c.rule, c.summary, json.dumps(list(c.evidence)),
         _iso(response), _iso_or_none(parts), ticket.ref))
    detail = (f"{ticket.priority} -> {c.priority} ({c.rule}): {c.summary}; "
              f"response due {_iso(response)}")
    _audit(conn, ticket.ref, at=_iso(now), who=who, action="priority_upgraded", detail=detail)
    return True


def _maybe_note_non_covered(conn: sqlite3.Connection, ticket: Ticket, c: Classification, *,
                            at: str, who: str) -> None:
    """A power-failure entry seen later still matters for who pays for the visit."""
    if ticket.non_covered or not c.non_covered:
        return
    conn.execute("UPDATE tickets SET non_covered = ? WHERE ref = ?", (c.non_covered, ticket.ref))
    _audit(conn, ticket.ref, at=at, who=who, action="non_covered_noted", detail=c.non_covered)


def _move(conn: sqlite3.Connection, ticket: Ticket, target: str, *, who: str, now: datetime,
          note: str) -> None:
    """Change state (already checked), stamp the SLA response once, and audit it."""
    at = _iso(now)
    responded = at if target in RESPONSE_STATES else None
    conn.execute("UPDATE tickets SET state = ?, responded_at = COALESCE(responded_at, ?)"
                 " WHERE ref = ?", (target, responded, ticket.ref))
    detail = f"{ticket.state} -> {target}" + (f": {note}" if note else "")
    _audit(conn, ticket.ref, at=at, who=who, action="state_changed", detail=detail)


def _escalate(conn: sqlite3.Connection, ref: str, level: str, due: datetime, *,
              now: datetime, who: str) -> bool:
    """Record and notify one escalation unless it was sent or the fault is resolved."""
    ticket = _get(conn, ref)
    if not is_open(ticket.state):
        return False
    cursor = conn.execute(
        "INSERT OR IGNORE INTO escalations_sent (ref, level, due, sent_at, who)"
        " VALUES (?, ?, ?, ?, ?)", (ref, level, _iso(due), _iso(now), who))
    if cursor.rowcount != 1:
        return False
    detail = f"{level.replace('_', ' ')} notified: unresolved since {_iso(ticket.opened_at)}"
    _audit(conn, ref, at=_iso(now), who=who, action="escalated", detail=detail)
    _notify(conn, ref, "escalated", now, detail=detail, level=level)
    return True


def _notify(conn: sqlite3.Connection, ref: str, event: str, now: datetime, *,
            detail: str = "", level: str | None = None) -> None:
    """Queue one notification per channel, in the caller's transaction."""
    ticket = _get(conn, ref)
    seq = 1 + int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox WHERE ref = ?",
                               (ref,)).fetchone()[0])
    payload = json.dumps(build_payload(ticket, event=event, seq=seq, at=now, detail=detail,
                                       level=level), sort_keys=True)
    at = _iso(now)
    for channel in CHANNELS:
        conn.execute(
            "INSERT INTO outbox (ref, seq, event, channel, payload, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (ref, seq, event, channel, payload, at, at))


def _audit(conn: sqlite3.Connection, ref: str, *, at: str, who: str, action: str,
           detail: str) -> None:
    conn.execute("INSERT INTO audit (ref, at, who, action, detail) VALUES (?, ?, ?, ?, ?)",
                 (ref, at, who, action, detail))


def _get(conn: sqlite3.Connection, ref: str) -> Ticket:
    row = conn.execute("SELECT * FROM tickets WHERE ref = ?", (ref,)).fetchone()
    if row is None:
        raise TicketNotFound(ref)
    return _ticket(row)


# --- row <-> value conversion ----------------------------------------------------------


def _ticket(row: sqlite3.Row) -> Ticket:
    return Ticket(
        ref=row["ref"], site_id=row["site_id"], customer=row["customer"],
        signature=row["signature"], priority=_priority(row["priority"]), title=row["title"],
        fault_class=row["fault_class"], rule=row["rule"], summary=row["summary"],
        evidence=tuple(json.loads(row["evidence"])), non_covered=row["non_covered"],
        state=row["state"], opened_at=_dt(row["opened_at"]),
        response_due=_dt(row["response_due"]), parts_due=_dt_or_none(row["parts_due"]),
        escalations=tuple((e["level"], _dt(e["due"])) for e in json.loads(row["escalations"])),
        contract=row["contract"], calendar=row["calendar"], first_seen=_dt(row["first_seen"]),
        last_seen=_dt(row["last_seen"]), occurrences=int(row["occurrences"]),
        last_run_id=row["last_run_id"],
        remote_access_due=_dt_or_none(row["remote_access_due"]),
        flapping=bool(row["flapping"]), flapping_since=_dt_or_none(row["flapping_since"]),
        responded_at=_dt_or_none(row["responded_at"]),
        resolved_at=_dt_or_none(row["resolved_at"]), resolution=row["resolution"],
        visit_date=None if row["visit_date"] is None else date.fromisoformat(row["visit_date"]),
        visit_engineer=row["visit_engineer"], visit_parts=tuple(json.loads(row["visit_parts"])),
        answers=json.loads(row["answers"]), transcript=row["transcript"],
        excerpt=row["excerpt"],
    )


def _message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        id=int(row["id"]), ref=row["ref"], seq=int(row["seq"]), event=row["event"],
        channel=row["channel"], payload=json.loads(row["payload"]),
        created_at=_dt(row["created_at"]), status=row["status"],
        attempts=int(row["attempts"]), next_attempt_at=_dt(row["next_attempt_at"]),
        sent_at=_dt_or_none(row["sent_at"]), last_error=row["last_error"])


def _escalations_json(escalations: Sequence[tuple[str, datetime]]) -> str:
    return json.dumps([{"level": level, "due": _iso(due)} for level, due in escalations])


def _answers_json(answers: dict[str, Any]) -> str:
    return json.dumps(answers, sort_keys=True, default=str)


def _iso(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order (SQLite compares it as text)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _iso(moment)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _dt_or_none(text: str | None) -> datetime | None:
    return None if text is None else _dt(text)


def _priority(value: object) -> Priority:
    if not is_priority(value):
        raise ValueError(f"register holds an unknown priority {value!r}")
    return value


def _priority_or_none(value: object) -> Priority | None:
    return None if value is None else _priority(value)
