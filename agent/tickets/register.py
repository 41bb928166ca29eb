"""The fault register: tickets, SLA clocks, occurrences and an audit trail, in SQLite.

Several processes (a fleet run, a support engineer's CLI, cron) write at once, so every
change is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken *before* the
"is there already an open ticket?" read, which is what keeps a scheduled health check from
opening duplicates, and fault references come from a counter row bumped in the same
transaction, so they are unique and never reused. WAL lets readers run beside a writer.
The schema is versioned with ``PRAGMA user_version`` and an append-only migration list.
Timestamps are stored as ISO-8601 UTC text, which sorts as it reads.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self

from agent.errors import InputError
from agent.tickets.classify import (
    PRIORITY_RANK,
    Classification,
    Priority,
    is_priority,
)
from agent.tickets.sla import Contract, deadlines

OccurrenceKind = Literal["fault", "all_clear"]
#: States in which a ticket no longer absorbs new occurrences of its fault. The queries
#: bind these as three ``?`` placeholders: change both together.
CLOSED_STATES: Final = ("resolved", "closed", "cancelled")
OPENED_STATE: Final = "logged"
REF_PREFIX: Final = "FR"


class TicketNotFound(InputError):
    """No ticket has this fault reference."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no fault ticket {ref!r}")


@dataclass(frozen=True, slots=True)
class Ticket:
    ref: str
    site_id: str
    customer: str
    signature: str
    priority: Priority
    title: str
    fault_class: str
    rule: str
    summary: str
    evidence: tuple[str, ...]
    non_covered: str | None
    state: str
    opened_at: datetime
    response_due: datetime
    parts_due: datetime | None
    escalations: tuple[tuple[str, datetime], ...]
    contract: str
    calendar: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    last_run_id: str

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES


@dataclass(frozen=True, slots=True)
class Occurrence:
    ref: str
    run_id: str
    seen_at: datetime
    kind: OccurrenceKind
    priority: Priority | None  # None for an all-clear


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ref: str
    at: datetime
    who: str
    action: str
    detail: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``record_fault`` did: opened a ticket, or added to the open one."""

    ticket: Ticket
    opened: bool
    upgraded: bool = False


# --- schema --------------------------------------------------------------------------

Migration = Callable[[sqlite3.Connection], None]
_CLOSED_SQL: Final = ", ".join(f"'{state}'" for state in CLOSED_STATES)


def _v1_initial(conn: sqlite3.Connection) -> None:
    """Tickets, occurrences, audit, and the counters that number fault references."""
    statements = (
        """CREATE TABLE counters (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""",
        """CREATE TABLE tickets (
            ref          TEXT PRIMARY KEY,
            site_id      TEXT NOT NULL,
            customer     TEXT NOT NULL,
            signature    TEXT NOT NULL,
            priority     TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3')),
            title        TEXT NOT NULL,
            fault_class  TEXT NOT NULL,
            rule         TEXT NOT NULL,
            summary      TEXT NOT NULL,
            evidence     TEXT NOT NULL,      -- JSON list of strings
            non_covered  TEXT,
            state        TEXT NOT NULL,
            opened_at    TEXT NOT NULL,
            response_due TEXT NOT NULL,
            parts_due    TEXT,
            escalations  TEXT NOT NULL,      -- JSON list of {level, due}
            contract     TEXT NOT NULL,
            calendar     TEXT NOT NULL,
            first_seen   TEXT NOT NULL,
            last_seen    TEXT NOT NULL,
            occurrences  INTEGER NOT NULL,
            last_run_id  TEXT NOT NULL
        )""",
        # One open ticket per fault per site, enforced by the database too.
        f"""CREATE UNIQUE INDEX tickets_one_open ON tickets (site_id, signature)
            WHERE state NOT IN ({_CLOSED_SQL})""",
        "CREATE INDEX tickets_site ON tickets (site_id, state)",
        """CREATE TABLE occurrences (
            id       INTEGER PRIMARY KEY,
            ref      TEXT NOT NULL REFERENCES tickets (ref),
            run_id   TEXT NOT NULL,
            seen_at  TEXT NOT NULL,
            kind     TEXT NOT NULL CHECK (kind IN ('fault', 'all_clear')),
            priority TEXT CHECK (priority IN ('P1', 'P2', 'P3')),
            UNIQUE (ref, run_id, kind)
        )""",
        """CREATE TABLE audit (
            id     INTEGER PRIMARY KEY,
            ref    TEXT NOT NULL REFERENCES tickets (ref),
            at     TEXT NOT NULL,
            who    TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        )""",
        "CREATE INDEX audit_ref ON audit (ref, id)",
    )
    for statement in statements:
        conn.execute(statement)


#: Append only: a released migration is never edited, the next change is a new function.
MIGRATIONS: Final[list[Migration]] = [_v1_initial]
SCHEMA_VERSION: Final = len(MIGRATIONS)


# --- the register --------------------------------------------------------------------


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

    # --- writes ----------------------------------------------------------------------

    def record_fault(self, *, site_id: str, customer: str, classification: Classification,
                     contract: Contract, run_id: str, now: datetime,
                     who: str = "pbxdiag") -> Outcome:
        """Open a ticket for a fault, or add this run to the site's open ticket for it.

        Recording the same run twice (a retry after a crash) changes nothing the second
        time, so a caller may always retry.
        """
        at = _iso(now)
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM tickets WHERE site_id = ? AND signature = ?"
                " AND state NOT IN (?, ?, ?)",
                (site_id, classification.signature, *CLOSED_STATES)).fetchone()
            if row is None:
                ref = _open_ticket(conn, site_id=site_id, customer=customer, c=classification,
                                   contract=contract, run_id=run_id, now=now, who=who)
                return Outcome(ticket=_get(conn, ref), opened=True)
            ticket = _ticket(row)
            if not _add_occurrence(conn, ref=ticket.ref, run_id=run_id, at=at, kind="fault",
                                   priority=classification.priority):
                return Outcome(ticket=ticket, opened=False)
            conn.execute(
                "UPDATE tickets SET occurrences = occurrences + 1, last_seen = max(last_seen, ?),"
                " last_run_id = ? WHERE ref = ?", (at, run_id, ticket.ref))
            upgraded = _maybe_upgrade(conn, ticket, classification, contract=contract,
                                      now=now, who=who)
            _maybe_note_non_covered(conn, ticket, classification, at=at, who=who)
            return Outcome(ticket=_get(conn, ticket.ref), opened=False, upgraded=upgraded)

    def record_all_clear(self, *, site_id: str, run_id: str, now: datetime) -> list[Ticket]:
        """Note that a run found the site healthy; closing a ticket stays a human decision."""
        at = _iso(now)
        with self._write() as conn:
            tickets = [_ticket(r) for r in conn.execute(
                "SELECT * FROM tickets WHERE site_id = ? AND state NOT IN (?, ?, ?)"
                " ORDER BY opened_at, ref", (site_id, *CLOSED_STATES))]
            for ticket in tickets:
                _add_occurrence(conn, ref=ticket.ref, run_id=run_id, at=at, kind="all_clear",
                                priority=None)
            return tickets

    # --- reads -----------------------------------------------------------------------

    def list_tickets(self, *, open_only: bool = False, site_id: str | None = None) -> list[Ticket]:
        rows = self._read(
            "SELECT * FROM tickets WHERE (? = 0 OR state NOT IN (?, ?, ?))"
            " AND (? IS NULL OR site_id = ?) ORDER BY opened_at, ref",
            (int(open_only), *CLOSED_STATES, site_id, site_id))
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

    # --- plumbing --------------------------------------------------------------------

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


# --- transaction bodies (called inside BEGIN IMMEDIATE) ------------------------------


def _open_ticket(conn: sqlite3.Connection, *, site_id: str, customer: str, c: Classification,
                 contract: Contract, run_id: str, now: datetime, who: str) -> str:
    ref = _next_ref(conn, now)
    due = deadlines(c.priority, now, contract)
    at = _iso(now)
    conn.execute(
        "INSERT INTO tickets (ref, site_id, customer, signature, priority, title, fault_class,"
        " rule, summary, evidence, non_covered, state, opened_at, response_due, parts_due,"
        " escalations, contract, calendar, first_seen, last_seen, occurrences, last_run_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
        (ref, site_id, customer, c.signature, c.priority, c.title, c.fault_class, c.rule,
         c.summary, json.dumps(list(c.evidence)), c.non_covered, OPENED_STATE, at,
         _iso(due.response), _iso_or_none(due.parts), _escalations_json(due.escalations),
         contract.name, contract.calendar.describe(), at, at, run_id))
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


def _audit(conn: sqlite3.Connection, ref: str, *, at: str, who: str, action: str,
           detail: str) -> None:
    conn.execute("INSERT INTO audit (ref, at, who, action, detail) VALUES (?, ?, ?, ?, ?)",
                 (ref, at, who, action, detail))


def _get(conn: sqlite3.Connection, ref: str) -> Ticket:
    row = conn.execute("SELECT * FROM tickets WHERE ref = ?", (ref,)).fetchone()
    if row is None:
        raise TicketNotFound(ref)
    return _ticket(row)


# --- row <-> value conversion --------------------------------------------------------


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
    )


def _escalations_json(escalations: Sequence[tuple[str, datetime]]) -> str:
    return json.dumps([{"level": level, "due": _iso(due)} for level, due in escalations])


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
