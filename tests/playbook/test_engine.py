"""Engine: statuses, evidence and error handling over a fake driver with real model objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from agent.errors import CommandRejected, LineDropped, ParseError, PlaybookError
from agent.playbook import parse_playbook, run_playbook
from agent.result import FailureHint, RunResult, RunStatus, StepStatus
from drivers.model import (
    Alarm,
    AlarmLevel,
    Card,
    CardStatus,
    Location,
    OperatingMode,
    SystemInfo,
)

MAJOR = Alarm(AlarmLevel.MAJOR, "E110", "02", Location(1, 3), "Card fault",
              datetime(2024, 5, 1, 8, 30), raw="110 02 01-03 CARD FAULT")
MINOR = Alarm(AlarmLevel.MINOR, "E200", "01", None, "Clock drift", None)
CARD = Card(Location(1, 3), "DLC16", "KX-TDA0172", "1.002", CardStatus.IN_SERVICE)


class FakeDriver:
    """Answers getters from a table; an exception in the table is raised instead."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def get(self, getter: str) -> Any:
        self.calls.append(getter)
        answer = self.answers[getter]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def new_run() -> RunResult:
    return RunResult(run_id="run-1", site="acme-hq", playbook="Health check",
                     started_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC), path="ssh://pbx")


def playbook(steps: str, vars_: str = "{max_minor: 1}") -> Any:
    return parse_playbook(f"name: Health check\nvars: {vars_}\nsteps:\n{steps}")


ALARM_STEP = """\
  - name: No major alarm
    get: alarms
    expect:
      - count(result, level="major") == 0
      - count(result, level="minor") <= max_minor
    register: alarms_now
    on_failure: {priority: P2, summary: A major alarm is active}
"""
CARD_STEP = """\
  - name: Cards in service
    get: cards
    expect: ['all_match(result, status="in_service")']
"""


def test_all_checks_pass() -> None:
    run = run_playbook(playbook(ALARM_STEP + CARD_STEP), FakeDriver(alarms=[MINOR], cards=[CARD]),
                       new_run())
    assert run.status is RunStatus.PASSED
    assert [(s.name, s.status, s.getter) for s in run.steps] == [
        ("No major alarm", StepStatus.OK, "alarms"),
        ("Cards in service", StepStatus.OK, "cards"),
    ]
    assert run.steps[0].message == "read alarms; 2 expectations held"
    assert run.steps[0].failed_expectations == []


def test_failed_check_is_recorded_and_later_checks_still_run() -> None:
    driver = FakeDriver(alarms=[MAJOR, MINOR, MINOR], cards=[CARD])
    run = run_playbook(playbook(ALARM_STEP + CARD_STEP), driver, new_run())
    failed, cards = run.steps
    assert failed.status is StepStatus.FAILED
    assert failed.failed_expectations == ['count(result, level="major") == 0',
                                          'count(result, level="minor") <= max_minor']
    assert failed.message.startswith("2 of 2 expectations failed: ")
    assert failed.on_failure == FailureHint(priority="P2", summary="A major alarm is active")
    assert cards.status is StepStatus.OK
    assert driver.calls == ["alarms", "cards"]
    assert run.status is RunStatus.FAILED


def test_facts_hold_jsonable_getter_answers_latest_wins() -> None:
    steps = ALARM_STEP + "  - name: Again\n    get: alarms\n"
    run = run_playbook(playbook(steps), FakeDriver(alarms=[MAJOR]), new_run())
    assert run.facts["alarms"] == [{
        "level": "major", "code": "E110", "sub_code": "02",
        "location": {"cabinet": 1, "slot": 3, "port": None}, "message": "Card fault",
        "first_seen": "2024-05-01T08:30:00", "raw": "110 02 01-03 CARD FAULT",
        "recovery": False, "cleared_at": None,
    }]
    assert run.to_json()["facts"] == run.facts  # already JSON-ready


def test_registered_result_is_visible_to_later_steps() -> None:
    steps = ALARM_STEP + """\
  - name: Mode matches alarms
    get: operating_mode
    expect:
      - result.mode == "day"
      - alarms_now | length == 1
      - alarms_now[0].code == "E200"
"""
    driver = FakeDriver(alarms=[MINOR], operating_mode=OperatingMode("day", automatic=True))
    run = run_playbook(playbook(steps), driver, new_run())
    assert [s.status for s in run.steps] == [StepStatus.OK, StepStatus.OK]


@pytest.mark.parametrize("problem", [
    CommandRejected("STATUS ALARM", "ERROR 12"),
    ParseError("alarm list", [(3, "@@garbage@@")]),
])
def test_getter_error_spoils_only_its_step(problem: Exception) -> None:
    run = run_playbook(playbook(ALARM_STEP + CARD_STEP),
                       FakeDriver(alarms=problem, cards=[CARD]), new_run())
    errored, cards = run.steps
    assert errored.status is StepStatus.ERROR
    assert errored.message == f"alarms: {problem}"
    assert cards.status is StepStatus.OK
    assert "alarms" not in run.facts
    assert run.status is RunStatus.FAILED


def test_unregistered_result_after_an_error_is_a_step_error_not_a_crash() -> None:
    steps = ALARM_STEP + "  - name: Uses it\n    get: cards\n    expect: ['alarms_now == []']\n"
    run = run_playbook(playbook(steps),
                       FakeDriver(alarms=CommandRejected("X", "ERR"), cards=[]), new_run())
    assert run.steps[1].status is StepStatus.ERROR
    assert "'alarms_now' is undefined" in run.steps[1].message


def test_lost_line_propagates_after_finished_steps_are_recorded() -> None:
    steps = CARD_STEP + ALARM_STEP + "  - name: Never reached\n    get: trunks\n"
    driver = FakeDriver(cards=[CARD], alarms=LineDropped("carrier lost"), trunks=[])
    run = new_run()
    with pytest.raises(LineDropped):
        run_playbook(playbook(steps), driver, run)
    assert [s.name for s in run.steps] == ["Cards in service"]
    assert driver.calls == ["cards", "alarms"]
    assert run.status is RunStatus.PASSED  # untouched: the runner records the drop


@pytest.mark.parametrize(("expect", "words"), [
    ("result.mood == 'day'", "has no attribute 'mood'"),
    ("count(result)", "count() needs a list of records, got a mapping"),
    ("result.software_version / 2", "TypeError"),
    ("().__class__", "refused by the sandbox"),
])
def test_expression_failing_at_run_time_is_a_step_error(expect: str, words: str) -> None:
    steps = f"  - name: Info\n    get: system_info\n    expect: [{expect!r}]\n"
    info = SystemInfo("panasonic", "KX-NS1000", "6.1")
    run = run_playbook(playbook(steps), FakeDriver(system_info=info), new_run())
    (step,) = run.steps
    assert step.status is StepStatus.ERROR
    assert words in step.message
    assert run.status is RunStatus.FAILED


def test_extra_vars_override_playbook_vars() -> None:
    run = run_playbook(playbook(ALARM_STEP), FakeDriver(alarms=[MINOR, MINOR]), new_run(),
                       extra_vars={"max_minor": 5})
    assert run.steps[0].status is StepStatus.OK


def test_extra_vars_cannot_hide_builtins() -> None:
    with pytest.raises(PlaybookError, match="clash with built-in names: count, result"):
        run_playbook(playbook(ALARM_STEP), FakeDriver(alarms=[]), new_run(),
                     extra_vars={"result": 1, "count": 2})


def test_step_without_expectations_is_ok_and_timed() -> None:
    before = datetime.now(UTC)
    run = run_playbook(playbook("  - name: Cards\n    get: cards\n"), FakeDriver(cards=[]),
                       new_run())
    (step,) = run.steps
    assert (step.status, step.message, step.on_failure) == (StepStatus.OK, "read cards", None)
    assert step.started_at is not None and step.started_at >= before
    assert step.duration_s >= 0


def test_other_run_fields_are_left_alone() -> None:
    run = new_run()
    before = run.to_json()
    run_playbook(playbook(CARD_STEP), FakeDriver(cards=[CARD]), run)
    after = run.to_json()
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {"steps", "facts"}


def test_steps_are_logged_without_getter_data() -> None:
    with capture_logs() as logs:
        run_playbook(playbook(ALARM_STEP), FakeDriver(alarms=[MAJOR]), new_run())
    (entry,) = [e for e in logs if e["event"] == "step.finished"]
    assert entry["step"] == "No major alarm"
    assert entry["status"] == "failed"
    assert entry["log_level"] == "info"
    assert entry["site"] == "acme-hq"
    assert "CARD FAULT" not in repr(logs)
