"""stats: the remote-resolution rate and SLA attainment, on register-made tickets."""

from __future__ import annotations

from datetime import timedelta

from agent.tickets.register import Register
from agent.tickets.stats import Attainment, compute_stats

from .conftest import NOW, classification, record

M = timedelta(minutes=1)


def open_ticket(reg: Register, n: int, priority: str = "P2") -> str:
    return record(reg, c=classification(priority, signature=f"s{n}"), run_id=f"r{n}").ticket.ref


def test_empty_register() -> None:
    stats = compute_stats([], now=NOW)
    assert (stats.total, stats.remote_rate, stats.response.rate) == (0, None, None)
    assert stats.by_priority == {"P1": 0, "P2": 0, "P3": 0}


def test_rates_counts_and_attainment(reg: Register) -> None:
    # Five remote fixes (four answered in time), one on-site fix, one open past due,
    # one open not yet due, one cancelled.
    for n in range(5):
        ref = open_ticket(reg, n)
        reg.set_state(ref, "remote_diagnosis", who="a", now=NOW + (30 if n else 300) * M)
        reg.resolve(ref, "remote", who="a", now=NOW + 400 * M)
    visit = open_ticket(reg, 5, "P1")
    reg.book_visit(visit, visit_date=NOW.date(), engineer="Dave", who="a", now=NOW)
    reg.resolve(visit, "on_site", who="dave", now=NOW + 200 * M)
    open_ticket(reg, 6)
    open_ticket(reg, 7, "P3")
    cancelled = open_ticket(reg, 8, "P3")
    reg.set_state(cancelled, "cancelled", who="a", now=NOW)

    stats = compute_stats(reg.list_tickets(), now=NOW + 5 * 60 * M)
    assert stats.total == 9
    assert stats.by_priority == {"P1": 1, "P2": 6, "P3": 2}
    assert stats.by_state == {"logged": 2, "resolved_remotely": 5, "resolved": 1,
                              "cancelled": 1}
    assert (stats.resolved_remotely, stats.resolved_on_site) == (5, 1)
    assert stats.remote_rate == 5 / 6
    assert stats.remote_target == 0.8
    # Responses (P2: 4 h, P3: 8 working hours): 4 met, 1 late (300 min), visit met at
    # 200 min, the open P2 is past due, the open P3 is pending; cancelled is left out.
    assert stats.response == Attainment(met=5, missed=2, pending=1)
    assert stats.response.rate == 5 / 7
    # Remote access within 45 minutes: only the four answered at 30 minutes.
    assert stats.remote_access == Attainment(met=4, missed=4, pending=0)
    assert stats.open == 2


def test_since_limits_to_tickets_opened_then(reg: Register) -> None:
    open_ticket(reg, 1)
    record(reg, c=classification(signature="late"), run_id="late", now=NOW + 60 * M)
    stats = compute_stats(reg.list_tickets(), now=NOW, since=NOW + M)
    assert stats.total == 1
    assert [t.ref for t in reg.list_tickets(since=NOW + M)] == ["FR-2026-000002"]
