"""The board's ordering and paging rules on real register records (a real SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.board.views import PAGE_SIZE, board_rows, countdown, page_of, pending_deadlines
from agent.tickets import sla
from agent.tickets.model import SentEscalation
from agent.tickets.register import Register
from tests.board.conftest import CONTRACT, FRIDAY_1725, classification

NOW = datetime(2026, 4, 27, 9, 30, tzinfo=UTC)


def test_the_next_pending_deadline_orders_the_board_and_sent_escalations_drop_out(
        tmp_path: Path) -> None:
    with Register(tmp_path / "t.db") as reg:
        refs = []
        for i, (priority, at) in enumerate((("P3", FRIDAY_1725), ("P1", NOW),
                                            ("P3", NOW - timedelta(days=1)))):
            refs.append(reg.record_fault(
                site_id=f"site-{i}", customer="C", contract=CONTRACT, run_id=f"r{i}", now=at,
                classification=classification(priority, f"s{i}", evidence=("e",),
                                              summary="s")).ticket.ref)
        tickets = reg.list_tickets(open_only=True)
    friday = next(t for t in tickets if t.ref == refs[0])
    d = sla.deadlines("P3", FRIDAY_1725, CONTRACT)
    assert pending_deadlines(friday) == sorted(
        [("response", d.response), *((f"escalation: {lvl.replace('_', ' ')}", due)
                                     for lvl, due in d.escalations)], key=lambda p: p[1])
    sent = [SentEscalation(refs[0], "account_manager", d.escalations[0][1], NOW, "x")]
    rows = board_rows(tickets, sent, now=NOW)
    assert [r.deadline for r in rows] == sorted(r.deadline for r in rows if r.deadline)
    first = next(r for r in rows if r.ticket.ref == refs[0])
    assert first.deadline_kind == "response" and first.deadline == d.response
    assert countdown(NOW + timedelta(hours=26, minutes=5), NOW) == "in 1d 2h 05m"
    assert countdown(NOW - timedelta(minutes=90), NOW) == "overdue 1h 30m"


def test_pages_hold_page_size_rows_and_out_of_range_pages_are_clamped() -> None:
    rows = list(range(PAGE_SIZE * 2 + 5))
    assert len(page_of(rows, 1).rows) == PAGE_SIZE  # type: ignore[arg-type]
    last = page_of(rows, 99)  # type: ignore[arg-type]
    assert (last.number, last.pages, len(last.rows)) == (99, 3, 0)
    assert page_of(rows, 0).number == 1  # type: ignore[arg-type]
