"""The sites page: each site's last run (when, which playbook, over which path, how it
ended), its runs per day over the last two weeks, and the runs in progress — a fleet
started from cron shows here while it runs, because every run is a row of the register
from its start (``agent/tickets/storage/runs.py``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from agent.board import app as board_app
from agent.board.views import LONDON
from agent.tickets.storage.runs import RunLog, RunRow

HISTORY_DAYS: Final = 14


@dataclass(frozen=True, slots=True)
class SiteLine:
    site_id: str
    last: RunRow
    #: (day, passed, not passed) for each of the last HISTORY_DAYS days, oldest first.
    days: tuple[tuple[date, int, int], ...]


def site_lines(runs: list[RunRow], *, today: date) -> list[SiteLine]:
    """One line per site, from its runs (newest first, as ``RunLog.recent`` gives them)."""
    by_site: dict[str, list[RunRow]] = {}
    for run in runs:
        by_site.setdefault(run.site_id, []).append(run)
    lines = []
    for site_id in sorted(by_site):
        own = by_site[site_id]
        passed: Counter[date] = Counter()
        other: Counter[date] = Counter()
        for run in own:
            if run.finished_at is None:
                continue
            day = run.started_at.astimezone(LONDON).date()
            (passed if run.exit_code == 0 else other)[day] += 1
        days = tuple((d, passed[d], other[d])
                     for d in (today - timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)))
        lines.append(SiteLine(site_id, own[0], days))
    return lines


def fleets(in_progress: list[RunRow]) -> list[tuple[str, int]]:
    """Runs in progress per fleet (a run by hand is its own line), largest first."""
    counts = Counter(run.fleet_id or f"run {run.run_id}" for run in in_progress)
    return counts.most_common()


async def sites_page(request: Request) -> Response:
    user = board_app.current_user(request)
    if user is None:
        return board_app.login_redirect(request)
    board = board_app.board_of(request)
    now: datetime = board.config.now()

    def read() -> dict[str, Any]:
        with RunLog(board.config.db) as log:
            recent = log.recent(since=now - timedelta(days=HISTORY_DAYS))
            running = log.in_progress(now=now)
        return {"sites": site_lines(recent, today=now.astimezone(LONDON).date()),
                "running": running, "fleets": fleets(running)}
    data = await run_in_threadpool(read)
    return board_app.page(request, "sites.html", {**data, "user": user})
