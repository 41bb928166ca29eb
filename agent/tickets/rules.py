"""The register's domain rules as pure functions over plain records (docs/tickets.md).

Which ticket a fault joins, when a verdict upgrades it, when a returning fault or an
all-clear is worth a notification, when it is flapping, what a state move stamps and which
escalations are due: each is decided here from ``Ticket``/``Classification`` values and
returns what to write, never touching SQL. ``Register`` (the facade) reads the records,
asks these functions, and hands their answers to the storage inside one transaction, so
a second storage (PostgreSQL) obeys exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from agent.tickets.classify import PRIORITY_RANK, Classification
from agent.tickets.flapping import Event, is_flapping
from agent.tickets.identity import contains, from_signature, text
from agent.tickets.lifecycle import LOGGED, RESPONSE_STATES, is_open
from agent.tickets.model import RunDetails, Ticket, iso
from agent.tickets.sla import Contract, deadlines

REF_PREFIX: Final = "FR"
OPENED_STATE: Final = LOGGED
FLAPPING_DETAIL: Final = "cleared and returned repeatedly: all-clear and recurrence mails stop"
ALL_CLEAR_DETAIL: Final = "a run found the site healthy"


@dataclass(frozen=True, slots=True)
class DedupKey:
    """A site has at most one open ticket per fault signature: runs of it join that one."""

    site_id: str
    signature: str


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What a worse verdict changes on the ticket: priority, wording and a shorter clock."""

    classification: Classification
    response_due: datetime
    parts_due: datetime | None
    audit_detail: str


@dataclass(frozen=True, slots=True)
class StateMove:
    """A checked state change: the SLA response stamp (first time only) and its audit text."""

    target: str
    responded_at: datetime | None
    audit_detail: str


def dedup_key(site_id: str, c: Classification) -> DedupKey:
    return DedupKey(site_id=site_id, signature=c.signature)


def matching_ticket(open_tickets: Sequence[Ticket], c: Classification
                    ) -> tuple[Ticket | None, list[Ticket]]:
    """The open ticket a fault joins, and the other open tickets it is part of.

    One fault, one ticket: an open ticket whose component contains (or is) the fault's
    takes it; otherwise the oldest ticket the fault's component contains takes it (and
    is widened), and the other contained ones record the occurrence too; otherwise a new
    ticket. A ticket from before fault identities (no component recorded) matches only
    by its signature."""
    component = c.component
    recorded = [(t, from_signature(t.signature)) for t in open_tickets]
    exact = [t for t, k in recorded if k is None and t.signature == c.signature]
    if exact:
        return exact[0], []
    wider = [t for t, k in recorded if k is not None and contains(k, component)]
    if wider:
        return _narrowest(wider), []
    inside = sorted((t for t, k in recorded if k is not None and contains(component, k)),
                    key=lambda t: (t.opened_at, t.ref))
    if inside:
        return inside[0], inside[1:]
    return None, []


def _narrowest(tickets: Sequence[Ticket]) -> Ticket:
    """Of the tickets containing a fault, the most specific one (then the oldest)."""
    return max(tickets, key=lambda t: (len(from_signature(t.signature) or ()),
                                       -t.opened_at.timestamp()))


def widens(ticket: Ticket, c: Classification) -> bool:
    """The fault covers more than the ticket did: the ticket takes the wider component."""
    return ticket.signature != c.signature and from_signature(ticket.signature) is not None \
        and contains(c.component, from_signature(ticket.signature) or ())


def widened_detail(ticket: Ticket, c: Classification) -> str:
    old = from_signature(ticket.signature) or ()
    return f"widened from {text(old)} to {text(c.component)} ({c.rule}): {c.summary}"


def fault_ref(year: int, number: int) -> str:
    """``FR-YYYY-NNNNNN`` from a per-year counter: sortable, and never handed out twice."""
    return f"{REF_PREFIX}-{year:04d}-{number:06d}"


def ref_year(now: datetime) -> int:
    return now.astimezone(UTC).year


def new_ticket(*, ref: str, site_id: str, customer: str, c: Classification,
               contract: Contract, run_id: str, now: datetime, run: RunDetails) -> Ticket:
    """The ticket a first fault opens, with its SLA clock started now."""
    due = deadlines(c.priority, now, contract)
    return Ticket(
        ref=ref, site_id=site_id, customer=customer, signature=c.signature,
        priority=c.priority, title=c.title, fault_class=c.fault_class, rule=c.rule,
        summary=c.summary, evidence=tuple(c.evidence), non_covered=c.non_covered,
        state=OPENED_STATE, opened_at=now, response_due=due.response, parts_due=due.parts,
        escalations=tuple(due.escalations), contract=contract.name,
        calendar=contract.calendar.describe(), first_seen=now, last_seen=now, occurrences=1,
        last_run_id=run_id, remote_access_due=due.remote_access, answers=dict(run.answers),
        transcript=run.transcript, excerpt=run.excerpt)


def opened_detail(t: Ticket) -> str:
    return f"{t.priority} {t.title} ({t.rule}): {t.summary}; response due {iso(t.response_due)}"


def merged_answers(ticket: Ticket, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Every front-line answer a ticket has been given; a newer answer wins its key."""
    return {**ticket.answers, **answers}


def upgrade(ticket: Ticket, c: Classification, *, contract: Contract,
            now: datetime) -> Upgrade | None:
    """A worse verdict raises the priority; the SLA clock only ever gets shorter."""
    if PRIORITY_RANK[c.priority] >= PRIORITY_RANK[ticket.priority]:
        return None
    due = deadlines(c.priority, now, contract)
    response = min(ticket.response_due, due.response)
    parts = min((d for d in (ticket.parts_due, due.parts) if d is not None), default=None)
    detail = (f"{ticket.priority} -> {c.priority} ({c.rule}): {c.summary}; "
              f"response due {iso(response)}")
    return Upgrade(classification=c, response_due=response, parts_due=parts,
                   audit_detail=detail)


def upgrade_notice(ticket: Ticket, c: Classification) -> str:
    return f"{ticket.priority} -> {c.priority}: {c.summary}"


def non_covered_note(ticket: Ticket, c: Classification) -> str | None:
    """A power-failure entry seen later still matters for who pays for the visit."""
    if ticket.non_covered or not c.non_covered:
        return None
    return c.non_covered


def is_recurrence(ticket: Ticket, previous_kind: str | None) -> bool:
    """A fault after an all-clear is news, unless the ticket is known to flap."""
    return previous_kind == "all_clear" and not ticket.flapping


def clears_fault(ticket: Ticket, previous_kind: str | None, *, added: bool) -> bool:
    """A new all-clear after a fault is a transition worth deciding about (notify or flap)."""
    return added and previous_kind == "fault" and not ticket.flapping


def now_flapping(history: Sequence[Event], now: datetime) -> bool:
    """After a fault → all-clear transition: has the fault started flapping?"""
    return is_flapping(history, now)


def state_move(ticket: Ticket, target: str, *, now: datetime, note: str) -> StateMove:
    """Change state (already checked), stamp the SLA response once, and say so."""
    responded = now if target in RESPONSE_STATES and ticket.responded_at is None else None
    detail = f"{ticket.state} -> {target}" + (f": {note}" if note else "")
    return StateMove(target=target, responded_at=responded, audit_detail=detail)


def visit_note(visit_date: str, engineer: str, parts: Sequence[str]) -> str:
    parts_text = ", ".join(parts) or "none listed"
    return f"visit {visit_date}, engineer {engineer}, parts: {parts_text}"


def resolved_notice(how: str, note: str) -> str:
    return (f"resolved {'remotely' if how == 'remote' else 'on site'}"
            + (f": {note}" if note else ""))


def escalations_due(tickets: Iterable[Ticket],
                    now: datetime) -> list[tuple[str, str, datetime]]:
    """(ref, level, due) for every escalation that has fallen due on an open ticket."""
    return [(t.ref, level, when) for t in tickets if is_open(t.state)
            for level, when in t.escalations if when <= now]


def escalation_notice(ticket: Ticket, level: str) -> str:
    return f"{level.replace('_', ' ')} notified: unresolved since {iso(ticket.opened_at)}"
