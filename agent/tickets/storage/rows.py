"""Records <-> register rows (SQLite, PostgreSQL): named columns, ISO-8601 UTC text times.

Kept apart from the SQL so the mapping is one table to read (and so a second storage can
borrow the JSON encodings the columns use).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

from agent.tickets.classify import Priority, is_priority
from agent.tickets.model import OutboxMessage, Ticket, iso

#: A ticket row with its derived facts computed from the occurrences table (fault runs
#: only): how many, the first one recorded, and the latest seen.
TICKET_SELECT: Final = (
    "SELECT t.*,"
    " (SELECT COUNT(*) FROM occurrences AS o WHERE o.ref = t.ref AND o.kind = 'fault')"
    "   AS occurrences,"
    " (SELECT o.seen_at FROM occurrences AS o WHERE o.ref = t.ref AND o.kind = 'fault'"
    "   ORDER BY o.id LIMIT 1) AS first_seen,"
    " (SELECT MAX(o.seen_at) FROM occurrences AS o WHERE o.ref = t.ref AND o.kind = 'fault')"
    "   AS last_seen"
    " FROM tickets AS t")


#: The columns a new ticket is inserted with, in ``TICKET_INSERT``'s order.
TICKET_COLUMNS: Final = (
    "ref", "site_id", "customer", "signature", "priority", "title", "fault_class", "rule",
    "summary", "evidence", "non_covered", "state", "opened_at", "response_due", "parts_due",
    "escalations", "contract", "calendar", "last_run_id", "remote_access_due", "answers",
    "transcript", "excerpt")
TICKET_INSERT: Final = (f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)})"
                        f" VALUES ({', '.join('?' * len(TICKET_COLUMNS))})")


def ticket_values(t: Ticket) -> tuple[Any, ...]:
    """``TICKET_INSERT``'s parameters for a new ticket."""
    columns = ticket_columns(t)
    return tuple(columns[name] for name in TICKET_COLUMNS)


def ticket_columns(t: Ticket) -> dict[str, Any]:
    """The columns a new ticket is inserted with (derived facts are not columns)."""
    return {
        "ref": t.ref, "site_id": t.site_id, "customer": t.customer, "signature": t.signature,
        "priority": t.priority, "title": t.title, "fault_class": t.fault_class,
        "rule": t.rule, "summary": t.summary, "evidence": json.dumps(list(t.evidence)),
        "non_covered": t.non_covered, "state": t.state, "opened_at": iso(t.opened_at),
        "response_due": iso(t.response_due), "parts_due": iso_or_none(t.parts_due),
        "escalations": escalations_json(t.escalations), "contract": t.contract,
        "calendar": t.calendar, "last_run_id": t.last_run_id,
        "remote_access_due": iso_or_none(t.remote_access_due),
        "answers": answers_json(t.answers), "transcript": t.transcript, "excerpt": t.excerpt,
    }


def ticket(row: Any) -> Ticket:
    return Ticket(
        ref=row["ref"], site_id=row["site_id"], customer=row["customer"],
        signature=row["signature"], priority=priority(row["priority"]), title=row["title"],
        fault_class=row["fault_class"], rule=row["rule"], summary=row["summary"],
        evidence=tuple(json.loads(row["evidence"])), non_covered=row["non_covered"],
        state=row["state"], opened_at=dt(row["opened_at"]),
        response_due=dt(row["response_due"]), parts_due=dt_or_none(row["parts_due"]),
        escalations=tuple((e["level"], dt(e["due"])) for e in json.loads(row["escalations"])),
        contract=row["contract"], calendar=row["calendar"], first_seen=dt(row["first_seen"]),
        last_seen=dt(row["last_seen"]), occurrences=int(row["occurrences"]),
        last_run_id=row["last_run_id"],
        remote_access_due=dt_or_none(row["remote_access_due"]),
        flapping=bool(row["flapping"]), flapping_since=dt_or_none(row["flapping_since"]),
        responded_at=dt_or_none(row["responded_at"]),
        resolved_at=dt_or_none(row["resolved_at"]), resolution=row["resolution"],
        visit_date=None if row["visit_date"] is None else date.fromisoformat(row["visit_date"]),
        visit_engineer=row["visit_engineer"], visit_parts=tuple(json.loads(row["visit_parts"])),
        answers=json.loads(row["answers"]), transcript=row["transcript"],
        excerpt=row["excerpt"],
    )


def message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=int(row["id"]), ref=row["ref"], seq=int(row["seq"]), event=row["event"],
        channel=row["channel"], payload=json.loads(row["payload"]),
        created_at=dt(row["created_at"]), status=row["status"],
        attempts=int(row["attempts"]), next_attempt_at=dt(row["next_attempt_at"]),
        sent_at=dt_or_none(row["sent_at"]), last_error=row["last_error"])


def escalations_json(escalations: Sequence[tuple[str, datetime]]) -> str:
    return json.dumps([{"level": level, "due": iso(due)} for level, due in escalations])


def answers_json(answers: dict[str, Any]) -> str:
    return json.dumps(answers, sort_keys=True, default=str)


def iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def dt_or_none(text: str | None) -> datetime | None:
    return None if text is None else dt(text)


def priority(value: object) -> Priority:
    if not is_priority(value):
        raise ValueError(f"register holds an unknown priority {value!r}")
    return value


def priority_or_none(value: object) -> Priority | None:
    return None if value is None else priority(value)
