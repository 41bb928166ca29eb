"""classify(): every rule on facts built from the real model types, no mocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.result import FailureHint, RunResult, RunStatus, StepResult, StepStatus
from agent.tickets.cards import families_for, is_processor
from agent.tickets.classify import (
    PRIORITY_RANK,
    PRIORITY_TITLES,
    Classification,
    Facts,
    is_priority,
    non_covered_reason,
    trunk_lines,
)
from agent.tickets.faults import classify, classify_all
from agent.tickets.identity import contains
from drivers.model import (
    Alarm,
    AlarmLevel,
    Card,
    CardStatus,
    Extension,
    ExtensionState,
    Location,
    Trunk,
    TrunkKind,
    TrunkState,
    to_jsonable,
)

T0 = datetime(2026, 11, 27, 9, 0)


def step(name: str, status: StepStatus = StepStatus.FAILED, *, priority: str | None = None,
         summary: str | None = None, message: str = "") -> StepResult:
    hint = FailureHint(priority=priority, summary=summary) if priority or summary else None
    return StepResult(name=name, status=status, message=message, on_failure=hint)


def run(*steps: StepResult, status: RunStatus = RunStatus.FAILED, run_id: str = "r1",
        **facts: list[Any]) -> RunResult:
    return RunResult(run_id=run_id, site="acme-bolton", playbook="health", started_at=T0,
                     status=status, steps=list(steps),
                     facts={k: to_jsonable(v) for k, v in facts.items()})


def card(slot: int, type_: str, status: CardStatus = CardStatus.IN_SERVICE) -> Card:
    return Card(Location(1, slot), type_, "KX-TDA0000", "1.0000", status)


def trunk(number: int, state: TrunkState = TrunkState.IN_SERVICE, *, slot: int = 3,
          kind: TrunkKind = TrunkKind.ANALOGUE, busied_out: bool = False) -> Trunk:
    return Trunk(number, Location(1, slot, number), kind, state, busied_out)


def ext(number: int, state: ExtensionState = ExtensionState.IDLE, *, slot: int = 1) -> Extension:
    return Extension(str(number), "", Location(1, slot, number - 200), "DPT", state)


def alarm(code: str, sub: str, message: str, level: AlarmLevel = AlarmLevel.MAJOR) -> Alarm:
    return Alarm(level, code, sub, Location(1), message, T0)


def classified(result: RunResult) -> Classification:
    c = classify(result)
    assert c is not None
    return c


HEALTHY_CARDS = [card(0, "IPCMPR"), card(1, "DLC16"), card(2, "SLC8"), card(3, "LCOT8")]


# --- when there is no ticket ---------------------------------------------------------


def test_passed_run_has_no_ticket() -> None:
    assert classify(run(status=RunStatus.PASSED)) is None


@pytest.mark.parametrize("status", [RunStatus.UNREACHABLE, RunStatus.ERROR])
def test_undiagnosed_run_has_no_ticket(status: RunStatus) -> None:
    assert classify(run(step("login", StepStatus.SKIPPED), status=status)) is None


def test_failed_run_with_nothing_failed_and_no_evidence_has_no_ticket() -> None:
    assert classify(run(step("cards", StepStatus.OK), cards=HEALTHY_CARDS)) is None


def test_an_unreachable_run_is_never_a_fault_whatever_its_hints() -> None:
    """Issue 12: a step error is ours or the line's, never the PBX's evidence."""
    result = run(step("connect", StepStatus.ERROR, priority="P1", summary="PBX not answering"),
                 status=RunStatus.UNREACHABLE)
    assert classify(result) is None


# --- P1 ------------------------------------------------------------------------------


def test_processor_fault_is_total_system_failure() -> None:
    cards = [card(0, "IPCMPR", CardStatus.FAULT), *HEALTHY_CARDS[1:]]
    c = classified(run(step("cards in service"), cards=cards))
    assert (c.priority, c.title, c.fault_class, c.rule) == (
        "P1", "Total System Failure", "Major", "processor-down")
    assert c.evidence[0] == "IPCMPR fault (cab 1 slot 00)"
    assert c.summary == "processor card IPCMPR fault (cab 1 slot 00)"


@pytest.mark.parametrize(("slot", "type_", "expected"), [
    (0, "MPR", True), (4, "PLMPR", True), (0, "MBX9", True), (2, "BECU", True),
    (0, "DLC16", False), (1, "LCOT8", False), (5, "ACTU", True),
])
def test_processor_detection(slot: int, type_: str, expected: bool) -> None:
    assert is_processor(to_jsonable(card(slot, type_)), families_for(None)) is expected


def test_no_idle_or_busy_extension_is_p1() -> None:
    exts = [ext(n, ExtensionState.FAULT) for n in range(201, 217)]
    exts.append(ext(301, ExtensionState.NOT_CONNECTED, slot=2))
    c = classified(run(step("extensions"), extensions=exts))
    assert (c.priority, c.rule) == ("P1", "no-working-extension")
    assert "EXT 201–216 fault (cab 1 slot 01)" in c.evidence
    assert "EXT 301 not connected (cab 1 slot 02)" in c.evidence


def test_one_working_extension_is_not_total_failure() -> None:
    exts = [ext(201, ExtensionState.BUSY), *(ext(n, ExtensionState.FAULT) for n in range(202, 209))]
    c = classified(run(step("extensions"), extensions=exts))
    assert c.priority == "P3"
    assert c.rule == "extensions-down"


def test_all_extension_cards_down_is_p1() -> None:
    cards = [card(0, "IPCMPR"), card(1, "DLC16", CardStatus.FAULT),
             card(2, "SLC8", CardStatus.OUT_OF_SERVICE), card(3, "LCOT8")]
    c = classified(run(step("cards"), cards=cards))
    assert (c.priority, c.rule) == ("P1", "extension-cards-down")
    assert c.evidence[:2] == ("DLC16 fault (cab 1 slot 01)", "SLC8 out of service (cab 1 slot 02)")


def test_toshiba_station_cards_count_as_extension_cards() -> None:
    cards = [card(0, "ACTU"), card(1, "PDKU2", CardStatus.FAULT), card(2, "RSTU", CardStatus.FAULT)]
    assert classified(run(step("cards"), cards=cards)).rule == "extension-cards-down"


def test_one_extension_card_up_is_not_p1() -> None:
    cards = [card(0, "IPCMPR"), card(1, "DLC16", CardStatus.FAULT), card(2, "SLC8")]
    assert classified(run(step("cards"), cards=cards)).priority == "P3"


def test_card_list_without_extension_cards_is_not_p1() -> None:
    """A partial card list (only trunk cards) proves nothing about the extensions."""
    cards = [card(3, "LCOT8", CardStatus.FAULT)]
    assert classified(run(step("cards"), cards=cards)).priority == "P3"


# --- P2 ------------------------------------------------------------------------------


def test_all_trunks_down_is_major_system_failure() -> None:
    cards = [*HEALTHY_CARDS[:3], card(3, "LCOT8", CardStatus.FAULT)]
    trunks = [trunk(n, TrunkState.FAULT) for n in range(1, 9)]
    exts = [ext(201), ext(202, ExtensionState.BUSY)]
    c = classified(run(step("trunks in service"), cards=cards, trunks=trunks, extensions=exts))
    assert (c.priority, c.title, c.fault_class, c.rule) == (
        "P2", "Major System Failure", "Major", "all-trunks-down")
    assert c.evidence[:2] == ("CO 01–08 fault (cab 1 slot 03)", "LCOT8 fault (cab 1 slot 03)")


def test_busied_out_trunks_are_down() -> None:
    trunks = [trunk(1, busied_out=True), trunk(2, TrunkState.OUT_OF_SERVICE, busied_out=True)]
    c = classified(run(step("trunks"), trunks=trunks))
    assert c.rule == "all-trunks-down"
    assert c.evidence[0] == "CO 01–02 busied out (cab 1 slot 03)"


def test_one_trunk_up_is_inconvenience() -> None:
    trunks = [trunk(1, TrunkState.FAULT), trunk(2)]
    assert classified(run(step("trunks"), trunks=trunks)).priority == "P3"


def _pri_site(*, pri_state: TrunkState, alarms: list[Alarm]) -> RunResult:
    pri = [trunk(n, pri_state, slot=5, kind=TrunkKind.PRI) for n in range(1, 31)]
    analogue = [trunk(31, slot=3)]
    return run(step("pri sync"), trunks=[*pri, *analogue], alarms=alarms)


def test_digital_sync_alarm_with_every_digital_trunk_down_is_p2() -> None:
    sync = alarm("300", "10500", "Digital trunk out of sync")
    c = classified(_pri_site(pri_state=TrunkState.FAULT, alarms=[sync]))
    assert (c.priority, c.rule) == ("P2", "digital-sync-loss")
    assert c.evidence[:2] == ("MJ ALM #300 10500 Digital trunk out of sync",
                              "CO 01–30 fault (cab 1 slot 05)")


def test_digital_trunks_down_without_sync_alarm_is_p3() -> None:
    assert classified(_pri_site(pri_state=TrunkState.FAULT, alarms=[])).priority == "P3"


def test_sync_alarm_with_digital_trunks_up_is_p3() -> None:
    sync = alarm("301", "10501", "RAI reception", AlarmLevel.MINOR)
    assert classified(_pri_site(pri_state=TrunkState.IN_SERVICE, alarms=[sync])).priority == "P3"


# --- hints, P3 and the worst-wins rule ----------------------------------------------


def test_failed_checks_without_hints_are_inconvenience() -> None:
    c = classified(run(step("night mode", message="mode NIGHT at 10:00"), step("smdr link")))
    assert (c.priority, c.title, c.fault_class, c.rule) == (
        "P3", "Inconvenience", "Minor", "failed-check")
    assert c.summary == "2 checks failed: night mode, smdr link"
    assert "check 'night mode' failed: mode NIGHT at 10:00" in c.evidence


def test_hint_worse_than_evidence_wins() -> None:
    trunks = [trunk(1, TrunkState.FAULT)]
    c = classified(run(step("trunks", priority="P1", summary="site cut off"), trunks=trunks))
    assert (c.priority, c.rule, c.summary) == ("P1", "hint:trunks", "site cut off")
    # a failed check the evidence explains adds no finding of its own (issue 12)
    assert c.fired == ("hint:trunks", "all-trunks-down")


def test_evidence_worse_than_hint_wins() -> None:
    cards = [card(0, "MPR", CardStatus.FAULT)]
    c = classified(run(step("cards", priority="P3"), cards=cards))
    assert (c.priority, c.rule) == ("P1", "processor-down")
    assert "hint:cards" in c.fired


def test_on_a_tie_evidence_beats_hint() -> None:
    trunks = [trunk(1, TrunkState.FAULT)]
    c = classified(run(step("trunks", priority="P2"), trunks=trunks))
    assert c.rule == "all-trunks-down"


def test_unknown_hint_priority_is_ignored() -> None:
    c = classified(run(step("x", priority="P9")))
    assert (c.priority, c.rule) == ("P3", "failed-check")


def test_active_alarms_are_quoted_as_evidence() -> None:
    alarms = [alarm("230", "10300", "Card disconnected")]
    c = classified(run(step("alarms"), alarms=alarms))
    assert "MJ ALM #230 10300 Card disconnected" in c.evidence


def test_titles_cover_every_priority() -> None:
    assert set(PRIORITY_TITLES) == set(PRIORITY_RANK) == {"P1", "P2", "P3"}


# --- non-covered causes --------------------------------------------------------------


def test_power_failure_in_error_log_flags_non_covered() -> None:
    log = [alarm("510", "10000", "SMDR disconnect", AlarmLevel.MINOR),
           alarm("010", "10000", "AC power down"), alarm("002", "10000", "System Restart")]
    c = classified(run(step("x"), error_log=log))
    assert c.non_covered == (
        "possible non-covered cause: AC power down (#010 at 2026-11-27T09:00:00); "
        "System Restart after power failure (#002 at 2026-11-27T09:00:00)")


def test_no_power_entry_means_covered() -> None:
    log = [alarm("230", "10300", "Card disconnected")]
    assert classified(run(step("x"), error_log=log)).non_covered is None


def test_unpadded_power_code_is_recognised() -> None:
    facts = Facts(error_log=({"code": "11", "first_seen": None},))
    assert non_covered_reason(facts) == "possible non-covered cause: DC power down (#011)"


# --- fault identity (issue 12: what is broken, not which checks noticed) ------------


def test_identity_is_stable_across_runs_and_step_order() -> None:
    a = classified(run(step("b"), step("a"), run_id="r1", trunks=[trunk(1, TrunkState.FAULT)]))
    b = classified(run(step("a"), step("b"), run_id="r2", trunks=[trunk(2, TrunkState.FAULT)]))
    assert a.signature == b.signature
    assert a.signature == "component:trunks"
    assert a.identity == "all-trunks-down @ trunks"


def test_the_same_fault_seen_by_different_checks_has_one_identity() -> None:
    dead = [card(0, "MPR"), card(1, "DLC16", CardStatus.FAULT), card(2, "DLC16")]
    by_health_check = classified(run(step("Every card in service"), cards=dead))
    by_user_playbook = classified(run(step("my own card check"), cards=dead))
    assert by_health_check.signature == by_user_playbook.signature
    assert by_health_check.component == ("extensions", "cab 1 slot 01")


def test_worsening_fault_contains_the_earlier_one() -> None:
    """One extension card down, then all: the wider fault contains the first, so the
    register widens that ticket instead of opening a second."""
    one_down = [card(0, "MPR"), card(1, "DLC16", CardStatus.FAULT), card(2, "DLC16")]
    all_down = [card(0, "MPR"), card(1, "DLC16", CardStatus.FAULT),
                card(2, "DLC16", CardStatus.FAULT)]
    minor = classified(run(step("cards"), cards=one_down))
    major = classified(run(step("cards"), cards=all_down))
    assert (minor.priority, major.priority) == ("P3", "P1")
    assert contains(major.component, minor.component)


def test_two_disjoint_faults_are_two_faults() -> None:
    cards = [card(0, "MPR"), card(1, "DLC16", CardStatus.FAULT), card(2, "DLC16"),
             card(3, "LCOT8", CardStatus.FAULT)]
    trunks = [trunk(1, TrunkState.FAULT), trunk(9, TrunkState.IN_SERVICE, slot=4)]
    faults = classify_all(run(step("cards"), cards=cards, trunks=trunks))
    assert sorted(f.component for f in faults) == [("extensions", "cab 1 slot 01"),
                                                  ("trunks", "cab 1 slot 03")]


def test_a_run_that_read_nothing_of_the_pbx_has_no_fault() -> None:
    """Our own error or a bad line made every step fail: no evidence, no ticket."""
    broken = RunResult(run_id="r", site="s", playbook="p", started_at=datetime.now(UTC),
                       status=RunStatus.FAILED,
                       steps=[StepResult("Every card in service", StepStatus.ERROR,
                                         getter="cards",
                                         on_failure=FailureHint(priority="P1"))])
    assert classify_all(broken) == []


def test_trunk_lines_group_runs_per_card() -> None:
    trunks = [to_jsonable(t) for t in (trunk(1, TrunkState.FAULT), trunk(2, TrunkState.FAULT),
                                       trunk(3), trunk(5, TrunkState.FAULT),
                                       trunk(9, TrunkState.FAULT, slot=4))]
    assert trunk_lines(trunks) == ("CO 01–02, 05 fault (cab 1 slot 03)",
                                   "CO 09 fault (cab 1 slot 04)")


# --- properties ----------------------------------------------------------------------

_priorities = st.sampled_from(["P1", "P2", "P3", None])
_trunk_states = st.sampled_from(list(TrunkState))


@given(hints=st.lists(_priorities, min_size=1, max_size=5),
       states=st.lists(_trunk_states, max_size=10))
def test_never_better_than_the_worst_hint(hints: list[str | None],
                                          states: list[TrunkState]) -> None:
    steps = [step(f"s{i}", priority=p) for i, p in enumerate(hints)]
    trunks = [trunk(i + 1, s) for i, s in enumerate(states)]
    first = classified(run(*steps, trunks=trunks))
    assert first == classified(run(*steps, trunks=trunks))  # deterministic
    given_hints = [p for p in hints if is_priority(p)]
    if given_hints:
        assert PRIORITY_RANK[first.priority] <= min(PRIORITY_RANK[p] for p in given_hints)
    if trunks and all(s != TrunkState.IN_SERVICE for s in states):
        assert PRIORITY_RANK[first.priority] <= PRIORITY_RANK["P2"]
