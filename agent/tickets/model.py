"""The register's records as values: what readers get back, never live rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from agent.errors import InputError
from agent.tickets.classify import Priority
from agent.tickets.lifecycle import Resolution, is_open

OccurrenceKind = Literal["fault", "all_clear"]
#: A channel module's name (agent/tickets/channels/): "email", "webhook", …
Channel = str
OutboxStatus = Literal["pending", "sent", "skipped", "failed"]


def iso(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order (the register compares it)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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
    # Derived from the occurrences (fault runs): computed by the storage's query, not kept.
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    last_run_id: str
    # --- schema v2 ----------------------------------------------------------------
    remote_access_due: datetime | None = None  # None on tickets opened before v2
    flapping: bool = False
    flapping_since: datetime | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: Resolution | None = None
    visit_date: date | None = None
    visit_engineer: str | None = None
    visit_parts: tuple[str, ...] = ()
    answers: dict[str, Any] = field(default_factory=dict)
    transcript: str | None = None
    excerpt: str = ""

    @property
    def is_open(self) -> bool:
        return is_open(self.state)


@dataclass(frozen=True, slots=True)
class Occurrence:
    ref: str
    run_id: str
    seen_at: datetime
    kind: OccurrenceKind
    priority: Priority | None  # None for an all-clear
    playbook: str | None = None  # which playbook's run saw it (None before schema v4)


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


@dataclass(frozen=True, slots=True)
class RunDetails:
    """What a run adds to its ticket beyond the classification (filing.py builds it)."""

    transcript: str | None = None
    excerpt: str = ""
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SentEscalation:
    ref: str
    level: str
    due: datetime
    sent_at: datetime
    who: str


@dataclass(frozen=True, slots=True)
class EngineerAction:
    """Something the desk must act on that is no customer fault and has no SLA clock: a
    PBX that may be half-programmed. One per run (``run_id``), ``EA-YYYY-NNNNNN``."""

    ref: str
    site_id: str
    customer: str
    run_id: str
    kind: str  # "half_programmed"
    detail: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One notification for one channel, as queued in the same transaction as its change."""

    id: int
    ref: str
    seq: int
    event: str
    channel: Channel
    payload: dict[str, Any]
    created_at: datetime
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None

    @property
    def event_id(self) -> str:
        """Stable across retries: the webhook's idempotency key and the mail's Message-ID."""
        return f"{self.ref}.{self.seq}"
