"""Service figures the seed promises, computed from the register rather than remembered.

* Remote-resolution rate: of the tickets resolved, the share resolved remotely (the
  seed expects about 80%).
* SLA attainment: of the tickets whose response is settled, the share that got their
  response (first line started remote diagnosis, or an engineer fixed it on site) by the
  response deadline. An unanswered ticket past its deadline counts as missed at once; one
  not yet due is pending. The remote-access target (45 minutes) is measured the same way.

Pure: the caller passes the tickets and "now".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from agent.tickets.classify import PRIORITY_TITLES
from agent.tickets.lifecycle import CANCELLED, STATES, is_open
from agent.tickets.model import Ticket

REMOTE_RESOLUTION_TARGET: Final = 0.8
Verdict = Literal["met", "missed", "pending"]


@dataclass(frozen=True, slots=True)
class Attainment:
    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def rate(self) -> float | None:
        settled = self.met + self.missed
        return self.met / settled if settled else None


@dataclass(frozen=True, slots=True)
class TicketStats:
    now: datetime
    since: datetime | None
    total: int
    open: int
    flapping: int
    by_priority: dict[str, int]
    by_state: dict[str, int]
    resolved_remotely: int
    resolved_on_site: int
    response: Attainment
    remote_access: Attainment
    remote_target: float = REMOTE_RESOLUTION_TARGET

    @property
    def remote_rate(self) -> float | None:
        resolved = self.resolved_remotely + self.resolved_on_site
        return self.resolved_remotely / resolved if resolved else None


def deadline_verdict(responded_at: datetime | None, due: datetime | None, ticket: Ticket,
                     now: datetime) -> Verdict | None:
    """Met, missed or still pending; None when the ticket says nothing about it."""
    if due is None or ticket.state == CANCELLED:
        return None
    if responded_at is not None:
        return "met" if responded_at <= due else "missed"
    if not is_open(ticket.state):
        return None  # closed with no response recorded: no basis for a verdict
    return "missed" if now > due else "pending"


def compute_stats(tickets: Sequence[Ticket], *, now: datetime,
                  since: datetime | None = None) -> TicketStats:
    chosen = [t for t in tickets if since is None or t.opened_at >= since]
    by_priority: dict[str, int] = {p: sum(t.priority == p for t in chosen)
                                   for p in PRIORITY_TITLES}
    by_state = {s: n for s in STATES if (n := sum(t.state == s for t in chosen))}
    return TicketStats(
        now=now, since=since, total=len(chosen),
        open=sum(t.is_open for t in chosen),
        flapping=sum(t.flapping for t in chosen),
        by_priority=by_priority, by_state=by_state,
        resolved_remotely=sum(t.resolution == "remote" for t in chosen),
        resolved_on_site=sum(t.resolution == "on_site" for t in chosen),
        response=_attainment([deadline_verdict(t.responded_at, t.response_due, t, now)
                              for t in chosen]),
        remote_access=_attainment([deadline_verdict(t.responded_at, t.remote_access_due, t, now)
                                   for t in chosen]),
    )


def _attainment(verdicts: Sequence[Verdict | None]) -> Attainment:
    return Attainment(met=verdicts.count("met"), missed=verdicts.count("missed"),
                      pending=verdicts.count("pending"))
