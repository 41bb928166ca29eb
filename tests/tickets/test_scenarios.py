"""classify() on every simulator fault scenario, with facts shaped as the driver reports them."""

from __future__ import annotations

import pytest

from agent.result import PathAttempt, RunResult, RunStatus
from agent.tickets.classify import Classification
from agent.tickets.faults import classify

from . import builders as b


def classified(result: RunResult) -> Classification:
    c = classify(result)
    assert c is not None
    return c


def test_healthy_site_has_no_ticket() -> None:
    assert classify(b.healthy()) is None


def test_healthy_facts_with_old_history_give_nothing_to_ticket() -> None:
    """Even a run marked failed finds no fault in a year-old log (nothing recent)."""
    result = b.healthy()
    result.status = RunStatus.FAILED
    assert classify(result) is None


def test_dead_trunk_card_is_p2_and_an_old_power_cut_is_not_blamed() -> None:
    c = classified(b.dead_trunk_card())
    assert (c.priority, c.title, c.fault_class, c.rule) == (
        "P2", "Major System Failure", "Major", "all-trunks-down")
    assert c.evidence[:2] == ("CO 01–08 fault (cab 1 slot 03)", "LCOT8 fault (cab 1 slot 03)")
    assert "MJ ALM #230 10300 Card disconnected" in c.evidence
    assert c.non_covered is None  # the 002 in the log is 95 days old
    assert c.fired[0] == "all-trunks-down"
    assert "hint:External calls possible" in c.fired


def test_all_digital_trunks_down_without_backup_is_p2() -> None:
    c = classified(b.digital_trunks_down(analogue_backup=False))
    assert (c.priority, c.rule) == ("P2", "all-trunks-down")
    assert "digital-sync-loss" in c.fired
    assert "CO 09–38 fault (cab 1 slot 04)" in c.evidence


def test_all_digital_trunks_down_with_analogue_backup_is_still_p2() -> None:
    c = classified(b.digital_trunks_down(analogue_backup=True))
    assert (c.priority, c.rule) == ("P2", "digital-sync-loss")
    assert c.evidence[0] == "MJ ALM #300 10400 Digital trunk out of sync"


def test_all_analogue_trunks_busied_out_is_p2() -> None:
    c = classified(b.analogue_trunks_busied_out())
    assert (c.priority, c.rule) == ("P2", "all-trunks-down")
    assert c.evidence[0] == "CO 01–08 busied out (cab 1 slot 03)"


def test_one_trunk_dead_is_p3() -> None:
    c = classified(b.one_trunk_dead())
    assert (c.priority, c.fault_class, c.rule) == ("P3", "Minor", "trunks-down")
    assert c.summary == "1 of 8 trunks down"
    assert c.evidence[0] == "CO 03 busied out (cab 1 slot 03)"


def test_extension_card_failure_is_p3_naming_the_dead_block() -> None:
    c = classified(b.extension_card_failure())
    assert (c.priority, c.rule) == ("P3", "extension-card-down")
    assert c.evidence[:2] == ("DLC16 fault (cab 1 slot 01)", "EXT 201–216 fault (cab 1 slot 01)")


def test_processor_failure_is_total_system_failure() -> None:
    c = classified(b.processor_failure())
    assert (c.priority, c.title, c.rule) == ("P1", "Total System Failure", "processor-down")
    assert {"no-working-extension", "extension-cards-down", "all-trunks-down"} <= set(c.fired)


def test_every_extension_card_down_is_p1_with_the_processor_alive() -> None:
    c = classified(b.all_extension_cards_down())
    assert (c.priority, c.rule) == ("P1", "no-working-extension")


def test_pbx_that_never_answers_is_not_diagnosed() -> None:
    assert classify(b.pbx_dead()) is None


def test_silence_on_every_line_that_reached_the_site_is_pbx_dead() -> None:
    run = b.pbx_dead()
    run.paths_tried = [PathAttempt("ssh://pbx", "no session: closed", reached=True,
                                   pbx_silent=True),
                       PathAttempt("modem:///dev/ttyUSB0?number=599", "no prompt",
                                   reached=True, pbx_silent=True)]
    c = classified(run)
    assert (c.priority, c.rule, c.identity) == ("P1", "pbx-dead", "pbx-dead @ system")
    assert len(c.evidence) == 2
    run.paths_tried[1] = PathAttempt("modem:///dev/ttyUSB0?number=599", "NO CARRIER")
    assert classify(run) is None  # one path never reached the site: not proof
    run.paths_tried[1] = PathAttempt("modem:///dev/ttyUSB0?number=599", "login prompt, then "
                                     "the line dropped", reached=True, pbx_silent=False)
    assert classify(run) is None  # the PBX said something: it is alive


@pytest.mark.parametrize(("code", "message", "major", "rule", "non_covered"), [
    ("010", "AC power down", True, "power-alarm", "AC power down"),
    ("011", "DC power down", True, "power-alarm", "DC power down"),
    ("012", "RAM battery low", True, "battery-low", None),
    ("014", "FAN alarm", False, "fan-alarm", None),
    ("042", "Shelf fan alarm", False, "fan-alarm", None),
    ("234", "DPLL clock failure", True, "clock-sync", None),
    ("392", "Clock master card selected", False, "clock-sync", None),
    ("216", "MSG card DSP error", False, "voicemail-card", None),
    ("310", "Port link failure", False, "voicemail-card", None),
])
def test_alarm_scenarios_are_p3_with_their_own_rule(code: str, message: str, major: bool,
                                                    rule: str, non_covered: str | None) -> None:
    c = classified(b.alarm_only(code, message, major=major))
    assert (c.priority, c.fault_class, c.rule) == ("P3", "Minor", rule)
    assert c.evidence[0].endswith(f"#{code} 10000 {message}")
    if non_covered is None:
        assert c.non_covered is None
    else:
        assert c.non_covered is not None and non_covered in c.non_covered


def test_restart_after_power_cut_flags_a_possible_non_covered_cause() -> None:
    c = classified(b.restart_after_power_cut())
    assert (c.priority, c.rule) == ("P3", "system-restart")
    assert c.non_covered == ("possible non-covered cause: System Restart after power failure "
                             "(#002 at 2026-04-24T15:25:00)")


@pytest.mark.parametrize(("answers", "expected"), [
    ({"power_cut": "yes"}, "caller reports a power cut"),
    ({"power_cut": "Y"}, "caller reports a power cut"),
    ({"surge": True}, "caller reports a power surge"),
    ({"power_cut": "yes", "surge": "true"},
     "caller reports a power cut; caller reports a power surge"),
])
def test_caller_reporting_a_power_cut_or_surge_is_flagged(answers: dict[str, object],
                                                          expected: str) -> None:
    c = classified(b.dead_trunk_card_with(answers))
    assert c.non_covered == f"possible non-covered cause: {expected}"


@pytest.mark.parametrize("answers", [{}, {"power_cut": "no"}, {"surge": False},
                                     {"power_cut": ""}, {"other": "yes"}])
def test_other_answers_flag_nothing(answers: dict[str, object]) -> None:
    assert classified(b.dead_trunk_card_with(answers)).non_covered is None


def test_answers_come_first_then_the_log() -> None:
    c = classified(b.restart_after_power_cut({"power_cut": "yes"}))
    assert c.non_covered is not None
    assert c.non_covered.startswith("possible non-covered cause: caller reports a power cut; "
                                    "System Restart after power failure")


def test_stuck_in_night_mode_is_p3() -> None:
    c = classified(b.stuck_in_night_mode())
    assert (c.priority, c.rule, c.summary) == ("P3", "night-mode-stuck",
                                               "time service left on manual Night")


def test_smdr_link_lost_is_p3_and_quotes_the_entry_once() -> None:
    c = classified(b.smdr_link_lost())
    assert (c.priority, c.rule) == ("P3", "smdr-link")
    assert c.evidence.count("MN ALM #510 10000 SMDR disconnect") == 1


def test_every_scenario_is_deterministic() -> None:
    for build in (b.dead_trunk_card, b.one_trunk_dead, b.extension_card_failure,
                  b.processor_failure, b.smdr_link_lost, b.stuck_in_night_mode):
        assert classify(build()) == classify(build())


@pytest.mark.parametrize(("answers", "priority", "rule"), [
    ({"extensions_affected": "all", "internal_calls_work": False}, "P1", "caller-no-calls"),
    ({"extensions_affected": "all", "internal_calls_work": "no"}, "P1", "caller-no-calls"),
    ({"extensions_affected": "all", "internal_calls_work": True}, "P2",
     "caller-no-external-calls"),
    ({"extensions_affected": "one", "internal_calls_work": False}, "P3", "trunks-down"),
    ({"extensions_affected": "all"}, "P3", "trunks-down"),
])
def test_the_callers_answers_separate_total_from_major_failure(
        answers: dict[str, object], priority: str, rule: str) -> None:
    result = b.one_trunk_dead()
    result.answers = answers
    c = classified(result)
    assert (c.priority, c.rule) == (priority, rule)
