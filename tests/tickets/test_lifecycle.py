"""The ticket lifecycle: allowed moves, refused moves, visits, resolution, notes, audit."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from agent.errors import InputError
from agent.tickets.lifecycle import (
    CLOSED_STATES,
    STATES,
    TRANSITIONS,
    InvalidTransition,
    check_transition,
)
from agent.tickets.register import Register

from .conftest import NOW, classification, events, payload_of, record

LATER = NOW + timedelta(minutes=30)


def opened(reg: Register, priority: str = "P2") -> str:
    return record(reg, c=classification(priority)).ticket.ref


# --- the table -------------------------------------------------------------------------


def test_every_state_is_reachable_from_logged() -> None:
    seen, frontier = {"logged"}, ["logged"]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(STATES)


def test_final_states_lead_nowhere_and_closed_states_are_final_or_closing() -> None:
    assert TRANSITIONS["closed"] == TRANSITIONS["cancelled"] == frozenset()
    for state in CLOSED_STATES:
        assert TRANSITIONS[state] <= {"closed"}


@pytest.mark.parametrize(("current", "target"), [
    ("logged", "resolved_remotely"), ("logged", "closed"), ("logged", "resolved"),
    ("remote_diagnosis", "resolved"), ("resolved_remotely", "remote_diagnosis"),
    ("closed", "logged"), ("logged", "escalated_to_manufacturer"),
])
def test_invalid_moves_are_refused_with_what_is_allowed(current: str, target: str) -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition("FR-2026-000001", current, target)
    assert isinstance(caught.value, InputError)  # the CLI's exit 2
    assert f"cannot go from {current} to {target}" in str(caught.value)
    assert "allowed from" in str(caught.value)


def test_unknown_state_is_input_error() -> None:
    with pytest.raises(InputError, match="unknown ticket state 'fixed'"):
        check_transition("FR-2026-000001", "logged", "fixed")


# --- the register ----------------------------------------------------------------------


def test_remote_path_records_response_resolution_and_audit(reg: Register) -> None:
    ref = opened(reg)
    t = reg.set_state(ref, "remote_diagnosis", who="alice", now=LATER, note="dialled in")
    assert (t.state, t.responded_at) == ("remote_diagnosis", LATER)
    t = reg.resolve(ref, "remote", who="alice", now=LATER + timedelta(minutes=20),
                    note="reprogrammed CO lines")
    assert (t.state, t.resolution) == ("resolved_remotely", "remote")
    assert t.resolved_at == LATER + timedelta(minutes=20)
    assert t.responded_at == LATER  # the first response stays
    t = reg.set_state(ref, "closed", who="bob", now=LATER + timedelta(hours=1))
    assert not t.is_open
    audit = reg.audit(ref)
    assert [(a.who, a.action) for a in audit] == [
        ("pbxdiag", "opened"), ("alice", "state_changed"), ("alice", "state_changed"),
        ("bob", "state_changed")]
    assert audit[1].detail == "logged -> remote_diagnosis: dialled in"
    assert audit[2].at == LATER + timedelta(minutes=20)
    assert events(reg, ref) == ["opened", "resolved"]
    assert payload_of(reg, ref, "resolved")["resolution"] == "remote"


def test_visit_path_books_parts_and_resolves_on_site(reg: Register) -> None:
    ref = opened(reg, "P1")
    reg.set_state(ref, "remote_diagnosis", who="alice", now=LATER)
    t = reg.book_visit(ref, visit_date=date(2026, 11, 30), engineer=" Dave Hughes ",
                       parts=["KX-TDA0180 LCOT8", " ", "PSU"], who="alice", now=LATER)
    assert (t.state, t.visit_date, t.visit_engineer, t.visit_parts) == (
        "visit_booked", date(2026, 11, 30), "Dave Hughes", ("KX-TDA0180 LCOT8", "PSU"))
    t = reg.book_visit(ref, visit_date=date(2026, 12, 1), engineer="Sam", who="carol",
                       now=LATER)  # re-booked
    assert (t.visit_date, t.visit_engineer, t.visit_parts) == (date(2026, 12, 1), "Sam", ())
    t = reg.resolve(ref, "on_site", who="sam", now=LATER + timedelta(days=4))
    assert (t.state, t.resolution) == ("resolved", "on_site")
    details = [a.detail for a in reg.audit(ref) if a.action == "state_changed"]
    assert details[1] == ("remote_diagnosis -> visit_booked: visit 2026-11-30, engineer "
                          "Dave Hughes, parts: KX-TDA0180 LCOT8, PSU")
    assert details[2].startswith("visit_booked -> visit_booked: visit 2026-12-01")


def test_escalation_to_the_manufacturer_is_its_own_step(reg: Register) -> None:
    ref = opened(reg)
    reg.set_state(ref, "remote_diagnosis", who="alice", now=LATER)
    t = reg.set_state(ref, "escalated_to_manufacturer", who="alice", now=LATER,
                      note="Panasonic case 12345")
    assert t.state == "escalated_to_manufacturer"
    t = reg.set_state(ref, "resolved_remotely", who="alice", now=LATER)  # via status
    assert (t.state, t.resolution) == ("resolved_remotely", "remote")


def test_invalid_move_changes_nothing(reg: Register) -> None:
    ref = opened(reg)
    before = reg.get(ref)
    with pytest.raises(InvalidTransition, match="cannot go from logged to closed"):
        reg.set_state(ref, "closed", who="alice", now=LATER)
    assert reg.get(ref) == before
    assert [a.action for a in reg.audit(ref)] == ["opened"]
    assert events(reg, ref) == ["opened"]


def test_visit_needs_book_visit_an_engineer_and_a_sane_date(reg: Register) -> None:
    ref = opened(reg)
    with pytest.raises(InputError, match="use book-visit"):
        reg.set_state(ref, "visit_booked", who="alice", now=LATER)
    with pytest.raises(InputError, match="engineer"):
        reg.book_visit(ref, visit_date=date(2026, 11, 30), engineer="  ", who="a", now=LATER)
    with pytest.raises(InputError, match="before the fault was logged"):
        reg.book_visit(ref, visit_date=date(2026, 11, 1), engineer="Dave", who="a", now=LATER)


def test_notes_are_audited_with_who_and_when(reg: Register) -> None:
    ref = opened(reg)
    entry = reg.add_note(ref, " customer says it started after the storm ", who="alice",
                         now=LATER)
    assert (entry.who, entry.at, entry.detail) == (
        "alice", LATER, "customer says it started after the storm")
    assert reg.audit(ref)[-1] == entry
    with pytest.raises(InputError, match="needs some text"):
        reg.add_note(ref, "   ", who="alice", now=LATER)


def test_resolved_ticket_no_longer_absorbs_the_fault(reg: Register) -> None:
    ref = opened(reg)
    reg.set_state(ref, "remote_diagnosis", who="a", now=LATER)
    reg.resolve(ref, "remote", who="a", now=LATER)
    again = record(reg, c=classification("P2"), run_id="run-2", now=LATER + timedelta(days=1))
    assert again.opened and again.ticket.ref != ref


def test_cancelled_from_logged(reg: Register) -> None:
    ref = opened(reg)
    assert reg.set_state(ref, "cancelled", who="a", now=LATER, note="duplicate").state == (
        "cancelled")


def test_merge_cancels_the_duplicate_and_keeps_the_other_through_the_cli(
        db: Path | str, tmp_path: Path) -> None:
    import subprocess
    import sys

    with Register(db) as reg:
        first = record(reg, site="s", c=classification(signature="card-a"), run_id="r1"
                       ).ticket.ref
        second = record(reg, site="s", c=classification(signature="card-b"), run_id="r2"
                        ).ticket.ref
        other = record(reg, site="t", c=classification(signature="card-c"), run_id="r3"
                       ).ticket.ref

    def merge(ref: str, into: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agent.cli", "tickets", "merge", ref,
                               "--into", into, "--db", str(db), "--by", "adam"],
                              capture_output=True, text=True, timeout=60, check=False)

    assert merge(first, other).returncode == 2  # another site: not the same fault
    assert merge(first, first).returncode == 2
    done = merge(first, second)
    assert done.returncode == 0, done.stderr
    assert f"{first}: cancelled, merged into {second}" in done.stdout
    assert merge(first, second).returncode == 2  # cancelled now: only open tickets merge
    with Register(db) as reg:
        assert reg.get(first).state == "cancelled" and reg.get(second).state == "logged"
        assert ("adam", "merged_into", second) in [
            (a.who, a.action, a.detail) for a in reg.audit(first)]
