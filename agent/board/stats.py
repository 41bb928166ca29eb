"""The board's stats page: remote-resolution rate, SLA attainment per contract, faults a week.

The numbers are ``agent.tickets.stats.compute_stats`` — the same as ``tickets stats`` —
once over the period and once per contract; the weekly counts are the tickets opened in
each ISO week (Europe/London), drawn as CSS bars so the page needs no chart library.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from agent.board import app as board_app
from agent.board.views import LONDON
from agent.tickets.model import Ticket
from agent.tickets.register import Register
from agent.tickets.stats import compute_stats

#: The chart's longest span: a year of weeks.
MAX_WEEKS = 53


def weekly(tickets: Sequence[Ticket]) -> list[tuple[date, int]]:
    """(Monday of the week, faults opened that week), oldest first, the last MAX_WEEKS."""
    counts = Counter(_monday(t.opened_at) for t in tickets)
    if not counts:
        return []
    first, last = min(counts), max(counts)
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    weeks = []
    while first <= last:
        weeks.append((first, counts.get(first, 0)))
        first += timedelta(weeks=1)
    return weeks


def _monday(moment: datetime) -> date:
    day = moment.astimezone(LONDON).date()
    return day - timedelta(days=day.weekday())


def _since(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text[:10]), time(0), tzinfo=LONDON)
    except ValueError:
        return None


async def stats_page(request: Request) -> Response:
    user = board_app.current_user(request)
    if user is None:
        return board_app.login_redirect(request)
    board = board_app.board_of(request)
    now = board.config.now()
    since = _since(request.query_params.get("since", ""))

    def read(register: Register) -> dict[str, Any]:
        tickets = register.list_tickets(since=since)
        contracts = sorted({t.contract for t in tickets})
        return {"overall": compute_stats(tickets, now=now, since=since),
                "per_contract": [(c, compute_stats([t for t in tickets if t.contract == c],
                                                   now=now, since=since)) for c in contracts],
                "weeks": weekly(tickets)}
    data = await board.db(read)
    peak = max((n for _, n in data["weeks"]), default=0) or 1
    return board_app.page(request, "stats.html", {**data, "user": user, "peak": peak,
                                                  "since": since})
