"""What the register queues in its outbox: dedup, upgrade, all clear, flapping, escalation."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from agent.tickets.flapping import clears_since, is_flapping
from agent.tickets.model import RunDetails
from agent.tickets.register import Register
from agent.tickets.schema import SCHEMA_VERSION
from agent.tickets.sla import Contract, deadlines

from .conftest import CONTRACT, NOW, classification, events, payload_of, raw_write, record

H = timedelta(hours=1)


def clear(reg: Register, run_id: str, now: datetime, site: str = "acme-bolton") -> None:
    reg.record_all_clear(site_id=site, run_id=run_id, now=now)


# --- flapping rule (pure) ----------------------------------------------------------------


def test_clears_count_only_fault_to_all_clear_transitions() -> None:
    t = [NOW + i * H for i in range(8)]
    history = [(t[0], "fault"), (t[1], "all_clear"), (t[2], "all_clear"), (t[3], "fault"),
               (t[4], "fault"), (t[5], "all_clear"), (t[6], "fault"), (t[7], "all_clear")]
    assert clears_since(history, NOW) == 3
    assert clears_since(history, t[2]) == 2  # the first clear fell before the window
    assert is_flapping(history, t[7])
    assert not is_flapping(history, t[7], threshold=4)
    assert not is_flapping(history, t[1] + timedelta(hours=24, minutes=1))


def test_clears_spread_over_more_than_a_day_do_not_flap() -> None:
    history = [(NOW + i * 10 * H, kind) for i, kind in
               enumerate(["fault", "all_clear"] * 3)]
    assert clears_since(history, NOW) == 3
    assert not is_flapping(history, history[-1][0])


# --- dedup, upgrade, all clear ------------------------------------------------------------


def test_new_fault_queues_one_notification_per_channel(reg: Register) -> None:
    ref = record(reg, run=RunDetails(transcript="/runs/r1/transcript.jsonl",
                                     excerpt="CO 01 FLT", answers={"power_cut": "yes"})
                 ).ticket.ref
    rows = reg.outbox(ref=ref)
    assert [(m.seq, m.event, m.channel, m.status) for m in rows] == [
        (1, "opened", "email", "pending"), (1, "opened", "webhook", "pending")]
    payload = rows[0].payload
    assert payload == rows[1].payload
    assert (payload["ref"], payload["event_id"], payload["priority"]) == (ref, f"{ref}.1", "P3")
    assert payload["transcript"] == "/runs/r1/transcript.jsonl"
    assert payload["transcript_excerpt"] == "CO 01 FLT"
    assert payload["answers"] == {"power_cut": "yes"}
    assert payload["customer"] == "Acme Ltd, Bolton"


def test_repeat_fault_adds_an_occurrence_and_no_notification(reg: Register) -> None:
    ref = record(reg).ticket.ref
    t = record(reg, run_id="run-2", now=NOW + H,
               run=RunDetails(excerpt="new", answers={"surge": "no"})).ticket
    assert (t.occurrences, t.last_seen, t.excerpt, t.answers) == (2, NOW + H, "new",
                                                                  {"surge": "no"})
    assert events(reg, ref) == ["opened"]


def test_upgrade_notifies_with_the_new_priority(reg: Register) -> None:
    ref = record(reg).ticket.ref
    outcome = record(reg, c=classification("P1", rule="processor-down"), run_id="run-2",
                     now=NOW + H)
    assert outcome.upgraded
    assert events(reg, ref) == ["opened", "upgraded"]
    payload = payload_of(reg, ref, "upgraded")
    assert (payload["priority"], payload["seq"], payload["detail"]) == (
        "P1", 2, "P3 -> P1: processor-down summary")
    assert payload["response_due"] == deadlines("P1", NOW + H, CONTRACT).response.isoformat(
        timespec="seconds")


def test_all_clear_notifies_once_per_clearing_and_recurrence_notifies(reg: Register) -> None:
    ref = record(reg).ticket.ref
    clear(reg, "ok-1", NOW + H)
    clear(reg, "ok-2", NOW + 2 * H)  # still clear: nothing new to say
    clear(reg, "ok-2", NOW + 2 * H)  # the same run again: nothing at all
    record(reg, run_id="run-2", now=NOW + 3 * H)
    assert events(reg, ref) == ["opened", "all_clear", "recurred"]
    assert [o.kind for o in reg.occurrences(ref)] == ["fault", "all_clear", "all_clear", "fault"]
    assert reg.get(ref).state == "logged"  # closing stays a human decision


def test_third_clearing_within_a_day_marks_flapping_and_stops_the_noise(reg: Register) -> None:
    ref = record(reg).ticket.ref
    at = NOW
    for i in range(1, 6):
        clear(reg, f"ok-{i}", at + H)
        record(reg, run_id=f"run-{i + 1}", now=at + 2 * H)
        at += 2 * H
    t = reg.get(ref)
    assert t.flapping and t.flapping_since == NOW + 5 * H
    assert events(reg, ref) == ["opened", "all_clear", "recurred", "all_clear", "recurred",
                                "flapping"]
    assert [a.action for a in reg.audit(ref)] == ["opened", "flapping"]
    assert len(reg.list_tickets()) == 1  # one ticket, not five
    assert t.occurrences == 6


def test_clearings_a_day_apart_are_not_flapping(reg: Register) -> None:
    ref = record(reg).ticket.ref
    for i in range(1, 5):
        clear(reg, f"ok-{i}", NOW + (13 * i - 1) * H)
        record(reg, run_id=f"run-{i + 1}", now=NOW + 13 * i * H)
    assert not reg.get(ref).flapping
    assert events(reg, ref).count("all_clear") == 4


# --- escalation ---------------------------------------------------------------------------


def test_escalations_are_sent_when_due_and_each_exactly_once(reg: Register) -> None:
    opened_at = datetime(2026, 4, 24, 16, 25, tzinfo=UTC)  # Friday 17:25 BST
    ref = record(reg, c=classification("P2"), now=opened_at).ticket.ref
    (am, am_due), (td, td_due) = reg.get(ref).escalations
    assert reg.escalate_due(now=am_due - timedelta(seconds=1)) == []
    first = reg.escalate_due(now=am_due, who="cron")
    assert [(e.ref, e.level, e.due, e.who) for e in first] == [(ref, am, am_due, "cron")]
    assert reg.escalate_due(now=am_due + H) == []  # run again: nothing new
    second = reg.escalate_due(now=td_due + 24 * H)
    assert [e.level for e in second] == [td]
    assert reg.escalate_due(now=td_due + 48 * H) == []
    assert events(reg, ref) == ["opened", "escalated", "escalated"]
    levels = [m.payload["level"] for m in reg.outbox(ref=ref, channel="email")[1:]]
    assert levels == ["account_manager", "technical_director"]
    assert [a.action for a in reg.audit(ref)] == ["opened", "escalated", "escalated"]
    assert [e.level for e in reg.sent_escalations(ref)] == [am, td]


def test_overdue_levels_both_go_in_one_run(reg: Register) -> None:
    ref = record(reg).ticket.ref
    assert {e.level for e in reg.escalate_due(now=NOW + 30 * 24 * H)} == {
        "account_manager", "technical_director"}
    assert events(reg, ref).count("escalated") == 2


def test_resolved_tickets_do_not_escalate(reg: Register) -> None:
    ref = record(reg).ticket.ref
    reg.set_state(ref, "remote_diagnosis", who="a", now=NOW)
    reg.resolve(ref, "remote", who="a", now=NOW + H)
    assert reg.escalate_due(now=NOW + 30 * 24 * H) == []


def test_contract_escalation_hours_are_used(reg: Register) -> None:
    gold = Contract(name="gold", escalation_working_hours=(1, 2))
    ref = record(reg, contract=gold).ticket.ref  # Friday 09:00 GMT
    assert [e.level for e in reg.escalate_due(now=NOW + H)] == ["account_manager"]
    assert [e.level for e in reg.escalate_due(now=NOW + 2 * H)] == ["technical_director"]
    assert events(reg, ref).count("escalated") == 2


def _escalate_in_process(path: str, now: str, barrier: Any, out: Any) -> None:
    barrier.wait()
    with Register(path) as register:
        out.put([(e.ref, e.level) for e in register.escalate_due(now=datetime.fromisoformat(now))])


def test_concurrent_escalate_runs_send_each_level_once(db: Path) -> None:
    with Register(db) as register:
        refs = [record(register, c=classification(signature=f"s{i}"), run_id=f"r{i}").ticket.ref
                for i in range(10)]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    later = (NOW + 30 * 24 * H).isoformat()
    workers = [ctx.Process(target=_escalate_in_process, args=(str(db), later, barrier, out))
               for _ in range(4)]
    for w in workers:
        w.start()
    sent = [pair for _ in workers for pair in out.get(timeout=120)]
    for w in workers:
        w.join(timeout=120)
    assert sorted(sent) == sorted((ref, level) for ref in refs
                                  for level in ("account_manager", "technical_director"))
    with Register(db) as register:
        assert len(register.outbox(channel="email")) == 10 + 20


# --- the schema: v1 files upgrade ---------------------------------------------------------


def test_a_v1_register_upgrades_and_keeps_its_tickets(sqlite_db: Path) -> None:
    db = sqlite_db
    from agent.tickets.schema import v1_initial

    conn = sqlite3.connect(db)
    v1_initial(conn)
    conn.execute(
        "INSERT INTO tickets VALUES ('FR-2026-000007', 'acme-bolton', 'Acme Ltd', 'sig-a',"
        " 'P2', 'Major System Failure', 'Major', 'all-trunks-down', 's', '[\"e\"]', NULL,"
        " 'logged', ?, ?, NULL, '[]', 'standard', 'cal', ?, ?, 1, 'run-1')",
        (NOW.isoformat(), (NOW + 4 * H).isoformat(), NOW.isoformat(), NOW.isoformat()))
    conn.execute("INSERT INTO counters VALUES ('fault_ref:2026', 7)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Register(db) as register:
        assert register.schema_version == SCHEMA_VERSION
        old = register.get("FR-2026-000007")
        assert (old.priority, old.flapping, old.remote_access_due, old.answers) == (
            "P2", False, None, {})
        assert (old.occurrences, old.first_seen, old.last_seen) == (1, NOW, NOW)
        again = record(register, c=classification("P2", signature="sig-a"), run_id="run-2")
        assert not again.opened and again.ticket.ref == "FR-2026-000007"
        new = record(register, c=classification(signature="sig-b"), run_id="run-3")
        assert new.ticket.ref == "FR-2026-000008"
        register.set_state("FR-2026-000007", "remote_diagnosis", who="a", now=NOW)
        register.resolve("FR-2026-000007", "remote", who="a", now=NOW)
        assert events(register, "FR-2026-000007") == ["resolved"]
        assert register.outbox(ref="FR-2026-000007")[0].seq == 1  # it starts the thread


def test_a_v2_register_opens_with_its_counts_computed_and_its_outbox_kept(
        sqlite_db: Path) -> None:
    """v3 drops the derived columns: what they said now comes from the occurrences."""
    db = sqlite_db
    from agent.tickets.schema import v1_initial, v2_lifecycle_escalations_outbox

    conn = sqlite3.connect(db)
    v1_initial(conn)
    v2_lifecycle_escalations_outbox(conn)
    conn.execute(
        "INSERT INTO tickets (ref, site_id, customer, signature, priority, title, fault_class,"
        " rule, summary, evidence, non_covered, state, opened_at, response_due, parts_due,"
        " escalations, contract, calendar, first_seen, last_seen, occurrences, last_run_id,"
        " excerpt) VALUES ('FR-2026-000003', 'acme-bolton', 'Acme Ltd', 'sig-a', 'P2',"
        " 'Major System Failure', 'Major', 'all-trunks-down', 's', '[\"e\"]', NULL, 'logged',"
        " ?, ?, NULL, '[]', 'standard', 'cal', ?, ?, 2, 'run-2', 'old excerpt')",
        (NOW.isoformat(), (NOW + 4 * H).isoformat(), NOW.isoformat(), (NOW + 2 * H).isoformat()))
    conn.executemany(
        "INSERT INTO occurrences (ref, run_id, seen_at, kind, priority) VALUES (?, ?, ?, ?, ?)",
        [("FR-2026-000003", "run-1", NOW.isoformat(), "fault", "P2"),
         ("FR-2026-000003", "run-c", (NOW + H).isoformat(), "all_clear", None),
         ("FR-2026-000003", "run-2", (NOW + 2 * H).isoformat(), "fault", "P2")])
    conn.execute(
        "INSERT INTO outbox (ref, seq, event, channel, payload, created_at, next_attempt_at,"
        " status) VALUES ('FR-2026-000003', 1, 'opened', 'email', '{\"ref\": \"x\"}', ?, ?,"
        " 'sent')", (NOW.isoformat(), NOW.isoformat()))
    conn.execute("INSERT INTO counters VALUES ('fault_ref:2026', 3)")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Register(db) as register:
        assert register.schema_version == SCHEMA_VERSION
        old = register.get("FR-2026-000003")
        assert (old.occurrences, old.first_seen, old.last_seen) == (2, NOW, NOW + 2 * H)
        assert (old.last_run_id, old.excerpt) == ("run-2", "old excerpt")
        kept = register.outbox(ref="FR-2026-000003")
        assert [(m.seq, m.event, m.channel, m.status, m.payload) for m in kept] == [
            (1, "opened", "email", "sent", {"ref": "x"})]
        again = record(register, c=classification("P1", signature="sig-a"), run_id="run-3",
                       now=NOW + 3 * H)
        assert again.upgraded and again.ticket.occurrences == 3
        assert again.ticket.last_seen == NOW + 3 * H
        assert [m.seq for m in register.outbox(ref="FR-2026-000003", channel="email")] == [1, 2]
        assert payload_of(register, "FR-2026-000003", "upgraded")["occurrences"] == 3


@pytest.mark.parametrize("state", ["resolved_remotely", "resolved", "closed", "cancelled"])
def test_database_allows_one_open_ticket_per_fault(db: Path, state: str) -> None:
    with Register(db) as register:
        ref = record(register).ticket.ref
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)), raw_write(db) as conn:
        conn.execute("INSERT INTO tickets SELECT 'FR-X', site_id, customer, signature, priority,"
                     " title, fault_class, rule, summary, evidence, non_covered, state,"
                     " opened_at, response_due, parts_due, escalations, contract, calendar,"
                     " last_run_id, remote_access_due,"
                     " flapping, flapping_since, responded_at, resolved_at, resolution,"
                     " visit_date, visit_engineer, visit_parts, answers, transcript, excerpt"
                     " FROM tickets WHERE ref = ?", (ref,))
    with raw_write(db) as conn:
        conn.execute("UPDATE tickets SET state = ? WHERE ref = ?", (state, ref))
    with Register(db) as register:
        assert record(register, run_id="run-2").opened
