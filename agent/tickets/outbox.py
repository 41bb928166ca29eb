"""What a notification says, fixed when it is queued (docs/tickets.md "Notifications").

The payload is a snapshot of the ticket *as the change left it*, written to the outbox in
the same transaction as the change. Delivery later (seconds, or days after a crash)
therefore tells the helpdesk what was true then, not what the ticket says by the time the
mail server answers. Pure: the register calls it with the row it just wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from agent.tickets.model import EngineerAction, Ticket

EVENTS: Final[Mapping[str, str]] = {
    "opened": "new fault",
    "upgraded": "priority upgraded",
    "recurred": "fault returned",
    "all_clear": "all clear",
    "flapping": "fault is flapping",
    "escalated": "escalated",
    "resolved": "resolved",
    "engineer_action": "engineer action needed",
}


def action_payload(action: EngineerAction, *, seq: int) -> dict[str, Any]:
    """An engineer action's notice: no priority, no SLA clock — what happened, where, and
    the run that says so."""
    return {"event": "engineer_action", "event_id": f"{action.ref}.{seq}", "seq": seq,
            "at": _iso(action.created_at), "ref": action.ref, "kind": action.kind,
            "site_id": action.site_id, "customer": action.customer,
            "run_id": action.run_id, "detail": action.detail}


def build_payload(ticket: Ticket, *, event: str, seq: int, at: datetime, detail: str = "",
                  level: str | None = None) -> dict[str, Any]:
    """The JSON the webhook posts and the e-mail is rendered from."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    payload: dict[str, Any] = {
        "event": event,
        "event_id": f"{ticket.ref}.{seq}",
        "seq": seq,
        "at": _iso(at),
        "detail": detail,
        "ref": ticket.ref,
        "site_id": ticket.site_id,
        "customer": ticket.customer,
        "contract": ticket.contract,
        "priority": ticket.priority,
        "title": ticket.title,
        "fault_class": ticket.fault_class,
        "rule": ticket.rule,
        "summary": ticket.summary,
        "evidence": list(ticket.evidence),
        "non_covered": ticket.non_covered,
        "state": ticket.state,
        "flapping": ticket.flapping,
        "opened_at": _iso(ticket.opened_at),
        "response_due": _iso(ticket.response_due),
        "parts_due": _iso_or_none(ticket.parts_due),
        "remote_access_due": _iso_or_none(ticket.remote_access_due),
        "escalations": [{"level": lv, "due": _iso(due)} for lv, due in ticket.escalations],
        "calendar": ticket.calendar,
        "occurrences": ticket.occurrences,
        "first_seen": _iso(ticket.first_seen),
        "last_seen": _iso(ticket.last_seen),
        "run_id": ticket.last_run_id,
        "answers": dict(ticket.answers),
        "transcript": ticket.transcript,
        "transcript_excerpt": ticket.excerpt,
        "resolution": ticket.resolution,
    }
    if level is not None:
        payload["level"] = level
    if ticket.visit_date is not None:
        payload["visit"] = {"date": ticket.visit_date.isoformat(),
                            "engineer": ticket.visit_engineer,
                            "parts": list(ticket.visit_parts)}
    return payload


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _iso(moment)
