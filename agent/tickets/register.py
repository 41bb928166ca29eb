"""The fault register: tickets, SLA clocks, occurrences, audit trail and outbox.

``Register`` is the facade the CLI, the filing and the flusher use. Each public change is
one storage transaction in which it reads the records, asks ``agent.tickets.rules`` what
follows, and writes the answer back together with its audit entries and the notifications
it causes. Queuing a notification *inside that transaction* means a crash can neither
lose it (the change committed, so did the row) nor invent one. Storage is behind
``agent.tickets.storage.TicketStore`` (SQLite or PostgreSQL); delivery is ``agent.tickets.queue``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

from agent.errors import InputError
from agent.maintenance import Window, check_window
from agent.tickets import channels, queue, rules
from agent.tickets.classify import Classification
from agent.tickets.flapping import FLAP_WINDOW
from agent.tickets.lifecycle import (
    CANCELLED,
    CLOSED_STATES,
    RESOLUTION_STATES,
    VISIT_BOOKED,
    Resolution,
    check_state,
    check_transition,
    is_open,
    path_to,
)
from agent.tickets.model import (
    AuditEntry,
    Channel,
    EngineerAction,
    Occurrence,
    OutboxMessage,
    OutboxStatus,
    Outcome,
    RunDetails,
    SentEscalation,
    Ticket,
    TicketNotFound,
    iso,
)
from agent.tickets.outbox import action_payload, build_payload
from agent.tickets.rules import OPENED_STATE, REF_PREFIX
from agent.tickets.schema import SCHEMA_VERSION
from agent.tickets.sla import Contract
from agent.tickets.storage import TicketStore, Transaction
from agent.tickets.storage.backends import location_of, store_for
from agent.tickets.storage.handle import StoreHandle
from agent.tickets.storage.location import RegisterLocation

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

_PBXDIAG: Final = "pbxdiag"


class Register(StoreHandle[TicketStore]):
    """The ticket register in a SQLite file or a PostgreSQL database (``location``: a path,
    ``sqlite:PATH`` or ``postgresql://…``); use as a context manager or ``open()``."""

    def __init__(self, location: RegisterLocation | str, *, busy_timeout_s: float = 30.0,
                 store: TicketStore | None = None) -> None:
        self.location = location_of(location)
        self.busy_timeout_s = busy_timeout_s
        self._store = store or store_for(self.location, busy_timeout_s=busy_timeout_s)


    @property
    def schema_version(self) -> int:
        return self._store.schema_version

    # --- faults from runs --------------------------------------------------------------

    def record_fault(self, *, site_id: str, customer: str, classification: Classification,
                     contract: Contract, run_id: str, now: datetime, who: str = _PBXDIAG,
                     run: RunDetails | None = None, playbook: str | None = None) -> Outcome:
        """Open a ticket for a fault, or add this run to the site's open ticket for it.

        The ticket is found by what is broken (rules.matching_ticket): one whose component
        contains this fault's, else one this fault's component contains — which is then
        widened to it. Recording the same run twice (a retry after a crash) changes nothing
        the second time, so a caller may always retry.
        """
        c = classification
        details = run or RunDetails()
        with self._store.transaction() as tx:
            ticket, absorbed = rules.matching_ticket(tx.open_tickets(site_id), c)
            if ticket is not None and rules.widens(ticket, c):
                tx.set_identity(ticket.ref, signature=c.signature)
                _audit(tx, ticket.ref, now, who, action="widened",
                       detail=rules.widened_detail(ticket, c))
            for other in absorbed:
                if tx.add_occurrence(other.ref, run_id=run_id, at=now, kind="fault",
                                     priority=c.priority, playbook=playbook):
                    _audit(tx, other.ref, now, who, action="part_of",
                           detail=f"part of {ticket.ref if ticket else '?'}: {c.summary}")
            if ticket is None:
                ref = _open_ticket(tx, site_id=site_id, customer=customer, c=c,
                                   contract=contract, run_id=run_id, now=now, who=who,
                                   run=details, playbook=playbook)
                _notify(tx, ref, "opened", now, detail=c.summary)
                return Outcome(ticket=tx.get(ref), opened=True)
            previous = tx.last_kind(ticket.ref)
            if not tx.add_occurrence(ticket.ref, run_id=run_id, at=now, kind="fault",
                                     priority=c.priority, playbook=playbook):
                return Outcome(ticket=ticket, opened=False)
            tx.note_run(ticket.ref, run_id=run_id,
                        answers=rules.merged_answers(ticket, details.answers),
                        transcript=details.transcript, excerpt=details.excerpt)
            upgrade = rules.upgrade(ticket, c, contract=contract, now=now)
            if upgrade is not None:
                tx.apply_upgrade(ticket.ref, upgrade)
                _audit(tx, ticket.ref, now, who, action="priority_upgraded",
                       detail=upgrade.audit_detail)
            note = rules.non_covered_note(ticket, c)
            if note is not None:
                tx.set_non_covered(ticket.ref, note)
                _audit(tx, ticket.ref, now, who, action="non_covered_noted", detail=note)
            if upgrade is not None:
                _notify(tx, ticket.ref, "upgraded", now,
                        detail=rules.upgrade_notice(ticket, c))
            elif rules.is_recurrence(ticket, previous):
                _notify(tx, ticket.ref, "recurred", now, detail=c.summary)
            return Outcome(ticket=tx.get(ticket.ref), opened=False,
                           upgraded=upgrade is not None)

    def record_all_clear(self, *, site_id: str, run_id: str, now: datetime,
                         which: Callable[[Ticket], bool] | None = None,
                         playbook: str | None = None) -> list[Ticket]:
        """Note that a run saw these faults gone; closing a ticket stays a human decision.

        ``which`` picks the open tickets the run proved clear (filing.py: a run that did
        not look at a component says nothing about it); None means every open ticket.
        The first all-clear after a fault notifies; a fault that keeps clearing and
        returning is marked flapping instead (flapping.py has the rule).
        """
        with self._store.transaction() as tx:
            tickets = [t for t in tx.open_tickets(site_id) if which is None or which(t)]
            for ticket in tickets:
                previous = tx.last_kind(ticket.ref)
                added = tx.add_occurrence(ticket.ref, run_id=run_id, at=now, kind="all_clear",
                                          priority=None, playbook=playbook)
                if rules.clears_fault(ticket, previous, added=added):
                    _after_clear(tx, ticket, now)
            return tickets

    # --- lifecycle ---------------------------------------------------------------------

    def record_engineer_action(self, *, site_id: str, customer: str, run_id: str,
                               kind: str, detail: str, now: datetime) -> EngineerAction:
        """An engineer action for this run (once: a run recorded again gives the same one)
        and its notice on every channel, in one transaction. No ticket, no SLA clock."""
        with self._store.transaction() as tx:
            existing = tx.action_for_run(run_id)
            if existing is not None:
                return existing
            year = rules.ref_year(now)
            ref = f"EA-{year:04d}-{tx.bump_counter(f'action_ref:{year:04d}'):06d}"
            action = EngineerAction(ref=ref, site_id=site_id, customer=customer,
                                    run_id=run_id, kind=kind, detail=detail,
                                    created_at=_stored(now))
            tx.insert_action(action)
            seq = tx.next_seq(ref)
            payload = action_payload(action, seq=seq)
            for channel in channels.names():
                tx.enqueue(ref=ref, seq=seq, event="engineer_action", channel=channel,
                           payload=payload, at=now)
            return action

    def set_state(self, ref: str, state: str, *, who: str, now: datetime,
                  note: str = "") -> Ticket:
        """Move a ticket along its lifecycle; a move the table forbids is refused."""
        check_state(state)
        if state == VISIT_BOOKED:
            raise InputError(f"{ref}: a visit needs a date and an engineer: use book-visit")
        for how, resolved_state in RESOLUTION_STATES.items():
            if state == resolved_state:
                return self.resolve(ref, how, who=who, now=now, note=note)
        with self._store.transaction() as tx:
            ticket = tx.get(ref)
            check_transition(ref, ticket.state, state)
            _move(tx, ticket, state, who=who, now=now, note=note)
            return tx.get(ref)

    def merge(self, ref: str, *, into: str, who: str, now: datetime) -> Ticket:
        """``ref`` is the same fault as ``into`` (a duplicate from before fault identity,
        or one the desk recognises): ``ref`` is cancelled as merged, both audit trails say
        so, and ``into`` carries on. Both must be open and of the same site."""
        if ref == into:
            raise InputError(f"{ref}: a ticket cannot be merged into itself")
        with self._store.transaction() as tx:
            merged, kept = tx.get(ref), tx.get(into)
            for ticket in (merged, kept):
                if not is_open(ticket.state):
                    raise InputError(f"{ticket.ref} is {ticket.state}: only open tickets merge")
            if merged.site_id != kept.site_id:
                raise InputError(f"{ref} ({merged.site_id}) and {into} ({kept.site_id}) are "
                                 "different sites: not the same fault")
            # A merge is not a lifecycle step: any open state may be merged (cancelled).
            _move(tx, merged, CANCELLED, who=who, now=now, note=f"merged into {into}")
            _audit(tx, ref, now, who, action="merged_into", detail=into)
            _audit(tx, into, now, who, action="merged_from",
                   detail=f"{ref} ({merged.priority}, {merged.occurrences} occurrence(s), "
                          f"opened {iso(merged.opened_at)})")
            return tx.get(into)

    def book_visit(self, ref: str, *, visit_date: date, engineer: str,
                   parts: Sequence[str] = (), who: str, now: datetime) -> Ticket:
        """Book (or re-book) an engineer visit with the parts the diagnosis points to."""
        engineer = engineer.strip()
        if not engineer:
            raise InputError(f"{ref}: a visit needs an engineer's name")
        clean_parts = [p.strip() for p in parts if p.strip()]
        with self._store.transaction() as tx:
            ticket = tx.get(ref)
            check_transition(ref, ticket.state, VISIT_BOOKED)
            if visit_date < ticket.opened_at.astimezone(UTC).date():
                raise InputError(f"{ref}: visit date {visit_date} is before the fault was "
                                 f"logged ({ticket.opened_at.date()})")
            tx.set_visit(ref, visit_date=visit_date, engineer=engineer, parts=clean_parts)
            note = rules.visit_note(visit_date.isoformat(), engineer, clean_parts)
            _move(tx, ticket, VISIT_BOOKED, who=who, now=now, note=note)
            return tx.get(ref)

    def resolve(self, ref: str, how: Resolution, *, who: str, now: datetime,
                note: str = "") -> Ticket:
        """Resolved remotely (first line fixed it) or on site (an engineer did).

        From any open state: the states between are passed through and each move is in
        the audit trail (lifecycle.path_to). Passing through ``visit_booked`` on the way
        to an on-site fix records the visit as today's, by ``who``, unless one is booked.
        """
        target = RESOLUTION_STATES[how]
        with self._store.transaction() as tx:
            ticket = tx.get(ref)
            for state in path_to(ref, ticket.state, target):
                if state == VISIT_BOOKED and ticket.visit_date is None:
                    tx.set_visit(ref, visit_date=now.astimezone(UTC).date(), engineer=who,
                                 parts=[])
                if state == target:
                    tx.set_resolution(ref, how, now)
                _move(tx, ticket, state, who=who, now=now,
                      note=note if state == target else "on the way to " + target)
                ticket = tx.get(ref)
            _notify(tx, ref, "resolved", now, detail=rules.resolved_notice(how, note))
            return tx.get(ref)

    def add_note(self, ref: str, text: str, *, who: str, now: datetime) -> AuditEntry:
        text = text.strip()
        if not text:
            raise InputError(f"{ref}: a note needs some text")
        with self._store.transaction() as tx:
            tx.get(ref)
            return _audit(tx, ref, now, who, action="note", detail=text)

    def record_tried_remotely(self, ref: str, detail: str, *, who: str,
                              now: datetime) -> AuditEntry:
        """Something tried remotely on the ticket (a console session): an audit entry
        ``tried_remotely``, which the ticket's history and the pre-visit pack list."""
        with self._store.transaction() as tx:
            tx.get(ref)
            return _audit(tx, ref, now, who, action="tried_remotely", detail=detail.strip())

    def record_vendor_case(self, ref: str, detail: str, *, who: str,
                           now: datetime) -> AuditEntry:
        """A vendor case pack was built for the manufacturer: audit ``vendor_case``."""
        with self._store.transaction() as tx:
            tx.get(ref)
            return _audit(tx, ref, now, who, action="vendor_case", detail=detail.strip())

    # --- escalation --------------------------------------------------------------------

    def escalate_due(self, *, now: datetime, who: str = _PBXDIAG,
                     quiet: Callable[[str], bool] | None = None) -> list[SentEscalation]:
        """Send every escalation that has fallen due on an unresolved ticket, each once.

        Each (ticket, level) is its own transaction whose insert into the sent escalations
        is the guard: two cron jobs racing both try, the storage lets one through. A site
        in a maintenance window (the register's, or one ``quiet`` names — the inventory's)
        is left alone: its escalations go out at the first sweep after the window.
        """
        in_window = {w.site_id for w in self.maintenance_windows(at=now)}
        tickets = [t for t in self.list_tickets(open_only=True)
                   if t.site_id not in in_window and not (quiet and quiet(t.site_id))]
        sent: list[SentEscalation] = []
        for ref, level, when in rules.escalations_due(tickets, now):
            with self._store.transaction() as tx:
                done = _escalate(tx, ref, level, when, now=now, who=who)
                if done is not None:
                    sent.append(done)
        return sent

    def sent_escalations(self, ref: str | None = None) -> list[SentEscalation]:
        return self._store.sent_escalations(ref)

    # --- maintenance windows -----------------------------------------------------------

    def set_maintenance(self, site_id: str, *, starts: datetime, ends: datetime, reason: str,
                        who: str, now: datetime) -> Window:
        """Put a site in maintenance from ``starts`` to ``ends``; kept with who set it."""
        problem = ("that moment has passed" if ends <= now else None) \
            or check_window(starts, ends)
        if problem is not None:
            raise InputError(f"--until: {problem}")
        with self._store.transaction() as tx:
            return tx.add_window(site_id=site_id, starts=starts, ends=ends, reason=reason,
                                 who=who, at=now)

    def end_maintenance(self, site_id: str, *, who: str, now: datetime) -> list[Window]:
        """End the site's windows now (early); a planned one that has not begun never will."""
        with self._store.transaction() as tx:
            return tx.end_windows(site_id=site_id, who=who, at=now)

    def maintenance_windows(self, *, site_id: str | None = None,
                            at: datetime | None = None) -> list[Window]:
        """The register's windows (of one site), or only those covering ``at``."""
        return self._store.windows(site_id=site_id, at=at)

    # --- outbox ------------------------------------------------------------------------

    def retry_now(self, *, now: datetime) -> int:
        """Make the messages waiting in back-off due now (``outbox flush --now``)."""
        with self._store.transaction() as tx:
            return tx.retry_now(at=now)

    def claim_next(self, *, owner: str, now: datetime,
                   lease: timedelta) -> OutboxMessage | None:
        """Lease the next due notification to ``owner`` (agent.tickets.queue)."""
        return queue.claim_next(self._store, owner=owner, now=now, lease=lease)

    def finish_delivery(self, message_id: int, *, owner: str, status: OutboxStatus,
                        now: datetime, error: str | None = None,
                        retry_at: datetime | None = None) -> bool:
        """Record how a leased delivery ended; False when the lease was no longer ours."""
        return queue.finish_delivery(self._store, message_id, owner=owner, status=status,
                                     now=now, error=error, retry_at=retry_at)

    def outbox(self, *, status: OutboxStatus | None = None, ref: str | None = None,
               channel: Channel | None = None) -> list[OutboxMessage]:
        return queue.list_outbox(self._store, status=status, ref=ref, channel=channel)

    # --- reads -------------------------------------------------------------------------

    def list_tickets(self, *, open_only: bool = False, site_id: str | None = None,
                     since: datetime | None = None) -> list[Ticket]:
        return self._store.list_tickets(open_only=open_only, site_id=site_id, since=since)

    def get(self, ref: str) -> Ticket:
        return self._store.get(ref)

    def occurrences(self, ref: str) -> list[Occurrence]:
        self.get(ref)
        return self._store.occurrences(ref)

    def audit(self, ref: str) -> list[AuditEntry]:
        self.get(ref)
        return self._store.audit_entries(ref)


# --- the steps of a change (inside one transaction) ------------------------------------


def _open_ticket(tx: Transaction, *, site_id: str, customer: str, c: Classification,
                 contract: Contract, run_id: str, now: datetime, who: str,
                 run: RunDetails, playbook: str | None = None) -> str:
    year = rules.ref_year(now)
    ref = rules.fault_ref(year, tx.bump_counter(f"fault_ref:{year:04d}"))
    ticket = rules.new_ticket(ref=ref, site_id=site_id, customer=customer, c=c,
                              contract=contract, run_id=run_id, now=now, run=run)
    tx.insert_ticket(ticket)
    tx.add_occurrence(ref, run_id=run_id, at=now, kind="fault", priority=c.priority,
                      playbook=playbook)
    _audit(tx, ref, now, who, action="opened", detail=rules.opened_detail(ticket))
    if c.non_covered:
        _audit(tx, ref, now, who, action="non_covered_noted", detail=c.non_covered)
    return ref


def _after_clear(tx: Transaction, ticket: Ticket, now: datetime) -> None:
    """A fault → all-clear transition: notify, or mark the ticket flapping (once)."""
    if not rules.now_flapping(tx.history_since(ticket.ref, now - FLAP_WINDOW), now):
        _notify(tx, ticket.ref, "all_clear", now, detail=rules.ALL_CLEAR_DETAIL)
        return
    tx.mark_flapping(ticket.ref, now)
    _audit(tx, ticket.ref, now, _PBXDIAG, action="flapping", detail=rules.FLAPPING_DETAIL)
    _notify(tx, ticket.ref, "flapping", now, detail=rules.FLAPPING_DETAIL)


def _move(tx: Transaction, ticket: Ticket, target: str, *, who: str, now: datetime,
          note: str) -> None:
    move = rules.state_move(ticket, target, now=now, note=note)
    tx.move(ticket.ref, move)
    _audit(tx, ticket.ref, now, who, action="state_changed", detail=move.audit_detail)


def _escalate(tx: Transaction, ref: str, level: str, due: datetime, *, now: datetime,
              who: str) -> SentEscalation | None:
    """Record and notify one escalation unless it was sent or the fault is resolved."""
    ticket = tx.get(ref)
    if not is_open(ticket.state):
        return None
    sent = SentEscalation(ref, level, due, _stored(now), who)
    if not tx.record_escalation(sent):
        return None
    detail = rules.escalation_notice(ticket, level)
    _audit(tx, ref, now, who, action="escalated", detail=detail)
    _notify(tx, ref, "escalated", now, detail=detail, level=level)
    return sent


def _notify(tx: Transaction, ref: str, event: str, now: datetime, *, detail: str = "",
            level: str | None = None) -> None:
    """Queue one notification per channel, in the caller's transaction."""
    ticket = tx.get(ref)
    seq = tx.next_seq(ref)
    payload = build_payload(ticket, event=event, seq=seq, at=now, detail=detail, level=level)
    for channel in channels.names():
        tx.enqueue(ref=ref, seq=seq, event=event, channel=channel, payload=payload, at=now)


def _audit(tx: Transaction, ref: str, now: datetime, who: str, *, action: str,
           detail: str) -> AuditEntry:
    entry = AuditEntry(ref=ref, at=_stored(now), who=who, action=action, detail=detail)
    tx.audit(entry)
    return entry


def _stored(moment: datetime) -> datetime:
    """A time as the register gives it back: UTC, to the microsecond."""
    return datetime.fromisoformat(iso(moment))
