"""What the board shows, as plain values: rows sorted by the next SLA deadline.

Pure functions over the register's records, so the HTML pages, the JSON API and the
tests read one answer. A ticket's *pending* deadlines are the response (until the
register records a response), the parts (Major faults, while open) and each escalation
not yet sent; the next of them orders the board. The deadlines are the ones the register
stored when the ticket was opened (agent.tickets.sla), never recomputed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from agent.maintenance import Window
from agent.tickets.model import SentEscalation, Ticket

LONDON: Final = ZoneInfo("Europe/London")
#: A deadline this close is highlighted as about to breach.
SOON: Final = timedelta(hours=1)
PRIORITY_COLOURS: Final = {"P1": "p1", "P2": "p2", "P3": "p3", "P4": "p4"}
#: Rows per page: a desk reads the top of the board; 10,000 open faults stay one query.
PAGE_SIZE: Final = 100
MAX_PAGE: Final = 10_000


@dataclass(frozen=True, slots=True)
class Filters:
    priority: str = ""
    state: str = ""
    contract: str = ""
    engineer: str = ""  # the engineer booked to visit
    page: int = 1

    def keep(self, ticket: Ticket) -> bool:
        return ((not self.priority or ticket.priority == self.priority)
                and (not self.state or ticket.state == self.state)
                and (not self.contract or ticket.contract == self.contract)
                and (not self.engineer
                     or (ticket.visit_engineer or "").lower() == self.engineer.lower()))

    def query(self) -> str:
        """The filters as a query string (the page number is added by each link)."""
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in (("priority", self.priority),
                                            ("state", self.state),
                                            ("contract", self.contract),
                                            ("engineer", self.engineer)) if v})


@dataclass(frozen=True, slots=True)
class Row:
    ticket: Ticket
    deadline_kind: str | None
    deadline: datetime | None
    urgency: str  # "breached" | "soon" | ""
    countdown: str
    maintenance: Window | None

    def to_json(self) -> dict[str, Any]:
        t = self.ticket
        return {"ref": t.ref, "priority": t.priority, "title": t.title, "state": t.state,
                "customer": t.customer, "site_id": t.site_id, "contract": t.contract,
                "summary": t.summary, "occurrences": t.occurrences,
                "last_seen": t.last_seen.isoformat(), "opened_at": t.opened_at.isoformat(),
                "next_deadline": {"kind": self.deadline_kind,
                                  "at": self.deadline.isoformat()} if self.deadline else None,
                "urgency": self.urgency or None,
                "maintenance": self.maintenance.to_json() if self.maintenance else None}


def pending_deadlines(ticket: Ticket, sent: Iterable[str] = ()) -> list[tuple[str, datetime]]:
    """The SLA promises still to keep, soonest first (``sent``: escalation levels sent)."""
    if not ticket.is_open:
        return []
    done = set(sent)
    pending: list[tuple[str, datetime]] = []
    if ticket.responded_at is None:
        pending.append(("response", ticket.response_due))
    if ticket.parts_due is not None:
        pending.append(("parts", ticket.parts_due))
    pending += [(f"escalation: {level.replace('_', ' ')}", due)
                for level, due in ticket.escalations if level not in done]
    return sorted(pending, key=lambda item: item[1])


def board_rows(tickets: Sequence[Ticket], escalations: Sequence[SentEscalation], *,
               now: datetime, filters: Filters = Filters(),
               windows: Sequence[Window] = ()) -> list[Row]:
    """Open tickets passing ``filters``, the next deadline first (none: last, newest first)."""
    sent: dict[str, set[str]] = {}
    for escalation in escalations:
        sent.setdefault(escalation.ref, set()).add(escalation.level)
    by_site = {w.site_id: w for w in windows if w.covers(now)}
    rows = []
    for ticket in tickets:
        if not ticket.is_open or not filters.keep(ticket):
            continue
        pending = pending_deadlines(ticket, sent.get(ticket.ref, ()))
        kind, due = pending[0] if pending else (None, None)
        rows.append(Row(ticket=ticket, deadline_kind=kind, deadline=due,
                        urgency=urgency(due, now), countdown=countdown(due, now),
                        maintenance=by_site.get(ticket.site_id)))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda r: (r.deadline or far, r.ticket.ref))
    return rows


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def page_of(rows: list[Row], number: int) -> Page:
    """One page of the sorted rows (the first page holds the next deadlines)."""
    number = min(max(1, number), MAX_PAGE)
    start = (number - 1) * PAGE_SIZE
    return Page(rows=rows[start:start + PAGE_SIZE], number=number, total=len(rows))


def urgency(due: datetime | None, now: datetime) -> str:
    if due is None:
        return ""
    if due <= now:
        return "breached"
    return "soon" if due - now <= SOON else ""


def countdown(due: datetime | None, now: datetime) -> str:
    """``in 3h 05m`` / ``overdue 1d 2h`` — what the page shows before (or without) JS."""
    if due is None:
        return "no deadline pending"
    seconds = int((due - now).total_seconds())
    text = _span(abs(seconds))
    return f"in {text}" if seconds > 0 else f"overdue {text}"


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    return f"{hours}h {minutes:02d}m"


def local(moment: datetime | None) -> str:
    """A time as the desk reads it: London wall-clock, with the zone's abbreviation."""
    if moment is None:
        return "—"
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M %Z")
