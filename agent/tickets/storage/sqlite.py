"""The register in one SQLite file: connection, WAL, migrations, transactions, the SQL.

Several processes (a fleet run, a support engineer's CLI, cron) write at once, so every
change is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken *before* the
"is there already an open ticket?" read, which is what keeps a scheduled health check from
opening duplicates, and fault references come from a counter row bumped in the same
transaction, so they are unique and never reused. WAL lets readers run beside a writer.
Timestamps are stored as ISO-8601 UTC text, which sorts as it reads. No rule lives here:
``Register`` decides, this module keeps.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from agent.errors import InputError
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
from agent.tickets.schema import MIGRATIONS, SCHEMA_VERSION
from agent.tickets.storage import rows

#: Queries bind the closed states as one JSON parameter: ``state NOT IN (SELECT … json_each)``.
_CLOSED_JSON: Final = json.dumps(list(CLOSED_STATES))
_OPEN: Final = " t.state NOT IN (SELECT value FROM json_each(?))"


class SqliteStore:
    """One SQLite register file; one connection, shared by a fleet's threads under a lock."""

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
                self._migrate()
        except BaseException:
            self._conn = None
            conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    @contextmanager
    def transaction(self) -> Iterator[SqliteTransaction]:
        with self._begin() as conn:
            yield SqliteTransaction(conn)

    # --- reads -------------------------------------------------------------------------

    def list_tickets(self, *, open_only: bool, site_id: str | None,
                     since: datetime | None) -> list[Ticket]:
        found = self._read(
            f"{rows.TICKET_SELECT} WHERE (? = 0 OR{_OPEN})"
            " AND (? IS NULL OR t.site_id = ?) AND (? IS NULL OR t.opened_at >= ?)"
            " ORDER BY t.opened_at, t.ref",
            (int(open_only), _CLOSED_JSON, site_id, site_id,
             rows.iso_or_none(since), rows.iso_or_none(since)))
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

    # --- for other record kinds (agent/tickets/storage/smdr.py) ---------------------------

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction on the raw connection, for a store of
        another kind of record kept in the same file and migrations."""
        return self._begin()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._read(sql, params)

    # --- plumbing ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("register is not open: use 'with Register(path) as reg:'")
        return self._conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
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

    def _migrate(self) -> None:
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


class SqliteTransaction:
    """The statements of one ``BEGIN IMMEDIATE`` transaction (see ``storage.Transaction``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def find_open(self, key: DedupKey) -> Ticket | None:
        row = self._conn.execute(
            f"{rows.TICKET_SELECT} WHERE t.site_id = ? AND t.signature = ? AND{_OPEN}",
            (key.site_id, key.signature, _CLOSED_JSON)).fetchone()
        return None if row is None else rows.ticket(row)

    def open_tickets(self, site_id: str) -> list[Ticket]:
        return [rows.ticket(r) for r in self._conn.execute(
            f"{rows.TICKET_SELECT} WHERE t.site_id = ? AND{_OPEN} ORDER BY t.opened_at, t.ref",
            (site_id, _CLOSED_JSON))]

    def get(self, ref: str) -> Ticket:
        row = self._conn.execute(f"{rows.TICKET_SELECT} WHERE t.ref = ?", (ref,)).fetchone()
        if row is None:
            raise TicketNotFound(ref)
        return rows.ticket(row)

    def bump_counter(self, name: str) -> int:
        self._conn.execute("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)", (name,))
        self._conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
        return int(self._conn.execute("SELECT value FROM counters WHERE name = ?",
                                      (name,)).fetchone()[0])

    def insert_ticket(self, ticket: Ticket) -> None:
        self._conn.execute(rows.TICKET_INSERT, rows.ticket_columns(ticket))

    def insert_action(self, action: EngineerAction) -> bool:
        """Insert unless this run already has its action; True when a row was added."""
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO engineer_actions (ref, site_id, customer, run_id, kind,"
            " detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (action.ref, action.site_id, action.customer, action.run_id, action.kind,
             action.detail, iso(action.created_at)))
        return cursor.rowcount == 1

    def action_for_run(self, run_id: str) -> EngineerAction | None:
        row = self._conn.execute("SELECT * FROM engineer_actions WHERE run_id = ?",
                                 (run_id,)).fetchone()
        if row is None:
            return None
        return EngineerAction(ref=row["ref"], site_id=row["site_id"], customer=row["customer"],
                              run_id=row["run_id"], kind=row["kind"], detail=row["detail"],
                              created_at=datetime.fromisoformat(row["created_at"]))

    def add_occurrence(self, ref: str, *, run_id: str, at: datetime, kind: OccurrenceKind,
                       priority: Priority | None, playbook: str | None = None) -> bool:
        """Insert unless this run was already recorded; True when a row was added."""
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO occurrences (ref, run_id, seen_at, kind, priority, playbook)"
            " VALUES (?, ?, ?, ?, ?, ?)", (ref, run_id, iso(at), kind, priority, playbook))
        return cursor.rowcount == 1

    def set_identity(self, ref: str, *, signature: str) -> None:
        self._conn.execute("UPDATE tickets SET signature = ? WHERE ref = ?", (signature, ref))

    def last_kind(self, ref: str) -> str | None:
        row = self._conn.execute("SELECT kind FROM occurrences WHERE ref = ? ORDER BY seen_at"
                                 " DESC, id DESC LIMIT 1", (ref,)).fetchone()
        return None if row is None else str(row["kind"])

    def history_since(self, ref: str, since: datetime) -> list[Event]:
        """The window's occurrences, plus the one before it (a transition may straddle it)."""
        found = self._conn.execute(
            "SELECT seen_at, kind, id FROM (SELECT seen_at, kind, id FROM occurrences"
            " WHERE ref = ? AND seen_at < ? ORDER BY seen_at DESC, id DESC LIMIT 1)"
            " UNION ALL SELECT seen_at, kind, id FROM occurrences WHERE ref = ? AND seen_at >= ?"
            " ORDER BY seen_at, id", (ref, iso(since), ref, iso(since))).fetchall()
        return [(rows.dt(r["seen_at"]), str(r["kind"])) for r in found]

    def note_run(self, ref: str, *, run_id: str, answers: Mapping[str, Any],
                 transcript: str | None, excerpt: str) -> None:
        """Keep the newest run id and transcript (an empty excerpt keeps the last one)."""
        self._conn.execute(
            "UPDATE tickets SET last_run_id = ?, answers = ?, transcript = COALESCE(?, transcript),"
            " excerpt = CASE WHEN ? = '' THEN excerpt ELSE ? END WHERE ref = ?",
            (run_id, rows.answers_json(dict(answers)), transcript, excerpt, excerpt, ref))

    def apply_upgrade(self, ref: str, change: Upgrade) -> None:
        c = change.classification
        self._conn.execute(
            "UPDATE tickets SET priority = ?, title = ?, fault_class = ?, rule = ?, summary = ?,"
            " evidence = ?, response_due = ?, parts_due = ? WHERE ref = ?",
            (c.priority, c.title, c.fault_class, c.rule, c.summary, json.dumps(list(c.evidence)),
             iso(change.response_due), rows.iso_or_none(change.parts_due), ref))

    def set_non_covered(self, ref: str, text: str) -> None:
        self._conn.execute("UPDATE tickets SET non_covered = ? WHERE ref = ?", (text, ref))

    def mark_flapping(self, ref: str, since: datetime) -> None:
        self._conn.execute("UPDATE tickets SET flapping = 1, flapping_since = ? WHERE ref = ?",
                           (iso(since), ref))

    def move(self, ref: str, change: StateMove) -> None:
        self._conn.execute(
            "UPDATE tickets SET state = ?, responded_at = COALESCE(responded_at, ?)"
            " WHERE ref = ?", (change.target, rows.iso_or_none(change.responded_at), ref))

    def set_visit(self, ref: str, *, visit_date: date, engineer: str,
                  parts: list[str]) -> None:
        self._conn.execute(
            "UPDATE tickets SET visit_date = ?, visit_engineer = ?, visit_parts = ?"
            " WHERE ref = ?", (visit_date.isoformat(), engineer, json.dumps(parts), ref))

    def set_resolution(self, ref: str, how: Resolution, at: datetime) -> None:
        self._conn.execute("UPDATE tickets SET resolution = ?, resolved_at = ? WHERE ref = ?",
                           (how, iso(at), ref))

    def record_escalation(self, sent: SentEscalation) -> bool:
        """The primary key (ref, level) is the guard: racing senders, one row, one mail."""
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO escalations_sent (ref, level, due, sent_at, who)"
            " VALUES (?, ?, ?, ?, ?)",
            (sent.ref, sent.level, iso(sent.due), iso(sent.sent_at), sent.who))
        return cursor.rowcount == 1

    def audit(self, entry: AuditEntry) -> None:
        self._conn.execute(
            "INSERT INTO audit (ref, at, who, action, detail) VALUES (?, ?, ?, ?, ?)",
            (entry.ref, iso(entry.at), entry.who, entry.action, entry.detail))

    # --- the outbox ----------------------------------------------------------------------

    def next_seq(self, ref: str) -> int:
        return 1 + int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox"
                                          " WHERE ref = ?", (ref,)).fetchone()[0])

    def enqueue(self, *, ref: str, seq: int, event: str, channel: str,
                payload: Mapping[str, Any], at: datetime) -> None:
        self._conn.execute(
            "INSERT INTO outbox (ref, seq, event, channel, payload, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref, seq, event, channel, json.dumps(payload, sort_keys=True), iso(at), iso(at)))

    def claim_due(self, *, at: datetime, owner: str,
                  lease_until: datetime) -> OutboxMessage | None:
        """Per ticket and channel first in, first out; an expired lease may be claimed."""
        now = iso(at)
        row = self._conn.execute(
            "SELECT * FROM outbox AS o WHERE status = 'pending' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?)"
            " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.ref = o.ref"
            "   AND e.channel = o.channel AND e.status = 'pending' AND e.id < o.id)"
            " ORDER BY next_attempt_at, id LIMIT 1", (now, now)).fetchone()
        if row is None:
            return None
        self._conn.execute("UPDATE outbox SET lease_owner = ?, lease_until = ?,"
                           " attempts = attempts + 1 WHERE id = ?",
                           (owner, iso(lease_until), row["id"]))
        return rows.message(self._conn.execute("SELECT * FROM outbox WHERE id = ?",
                                               (row["id"],)).fetchone())

    def finish(self, message_id: int, *, owner: str, status: OutboxStatus,
               sent_at: datetime | None, error: str | None, next_at: datetime) -> bool:
        cursor = self._conn.execute(
            "UPDATE outbox SET status = ?, sent_at = COALESCE(?, sent_at), last_error = ?,"
            " next_attempt_at = ?, lease_owner = NULL, lease_until = NULL"
            " WHERE id = ? AND lease_owner = ? AND status = 'pending'",
            (status, rows.iso_or_none(sent_at), error, iso(next_at), message_id, owner))
        return cursor.rowcount == 1

    def retry_now(self, *, at: datetime) -> int:
        """Make every message waiting in back-off due at ``at`` (``outbox flush --now``);
        a leased one is left to its flusher."""
        cursor = self._conn.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending'"
            " AND next_attempt_at > ? AND (lease_until IS NULL OR lease_until <= ?)",
            (iso(at), iso(at), iso(at)))
        return cursor.rowcount

    # --- maintenance windows ------------------------------------------------------------

    def add_window(self, *, site_id: str, starts: datetime, ends: datetime, reason: str,
                   who: str, at: datetime) -> Window:
        cursor = self._conn.execute(
            "INSERT INTO maintenance (site_id, starts_at, ends_at, reason, set_by, set_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (site_id, iso(starts), iso(ends), reason, who, iso(at)))
        found = _windows(self._execute, None, None, window_id=cursor.lastrowid)
        return found[0]

    def end_windows(self, *, site_id: str, who: str, at: datetime) -> list[Window]:
        """End now every window of the site that has not ended (a future one never starts)."""
        ids = [int(r["id"]) for r in self._conn.execute(
            "SELECT id FROM maintenance WHERE site_id = ? AND ended_at IS NULL AND ends_at > ?"
            " LIMIT 1000", (site_id, iso(at)))]
        ended = []
        for window_id in ids:
            self._conn.execute("UPDATE maintenance SET ended_at = ?, ended_by = ? WHERE id = ?",
                               (iso(at), who, window_id))
            ended += _windows(self._execute, None, None, window_id=window_id)
        return ended

    def _execute(self, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()


def _windows(read: Any, site_id: str | None, at: datetime | None, *,
             window_id: int | None = None) -> list[Window]:
    """The newest 1,000 windows that match, oldest first."""
    moment = rows.iso_or_none(at)
    found = read(
        "SELECT * FROM maintenance WHERE (? IS NULL OR site_id = ?) AND (? IS NULL OR id = ?)"
        " AND (? IS NULL OR (starts_at <= ? AND ends_at > ?"
        " AND (ended_at IS NULL OR ended_at > ?))) ORDER BY starts_at DESC, id DESC LIMIT 1000",
        (site_id, site_id, window_id, window_id, moment, moment, moment, moment))
    return [Window(site_id=r["site_id"], starts=rows.dt(r["starts_at"]), ends=rows.dt(r["ends_at"]),
                   reason=r["reason"], source="register", set_by=r["set_by"],
                   set_at=rows.dt(r["set_at"]), id=r["id"],
                   ended_at=rows.dt_or_none(r["ended_at"]), ended_by=r["ended_by"])
            for r in reversed(found)]


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
