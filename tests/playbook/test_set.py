"""``set``: read → equal → check mode → write → read back → roll back → half-programmed.

Every test asserts on the fake PBX's own state: a check run must leave it untouched and a
failed change must leave it exactly as it started.
"""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from agent.errors import LineDropped
from agent.line.secrets import MASK
from agent.result import ErrorCause, StepStatus

from .fakes import FakePbx, NoSettingsPbx, new_run, run_text, statuses

RENAME = """\
  - name: Rename
    set: {setting: extension_name, target: "{{ ext }}", value: "{{ new_name }}"}
  - name: Afterwards
    get: extensions
"""
VARS = {"ext": "201", "new_name": "Sales"}


def pbx() -> FakePbx:
    return FakePbx(settings={"extension_name:201": "Reception"}, getters={"extensions": []})


def test_check_mode_shows_the_diff_and_writes_nothing() -> None:
    fake = pbx()
    run = run_text(RENAME, fake, extra_vars=VARS)
    step = run.steps[0]
    assert step.status is StepStatus.CHANGED
    assert step.diff == {"setting": "extension_name", "target": "201", "before": "Reception",
                         "after": "Sales"}
    assert "check mode: would change extension_name 201 from 'Reception' to 'Sales'" \
        in step.message
    assert fake.writes == [] and fake.settings == {"extension_name:201": "Reception"}
    assert not any(call[0] == "write" for call in fake.calls)
    assert run.check_mode is True
    assert run.status.value == "passed"


def test_apply_writes_reads_back_and_reports_changed() -> None:
    fake = pbx()
    run = run_text(RENAME, fake, extra_vars=VARS, apply=True)
    step = run.steps[0]
    assert (step.status, step.attempts) == (StepStatus.CHANGED, 1)
    assert "read back and verified" in step.message
    assert fake.settings["extension_name:201"] == "Sales"
    assert fake.calls[:3] == [("read", "extension_name", "201"),
                              ("write", "extension_name", "201"),
                              ("read", "extension_name", "201")]
    assert run.check_mode is False


def test_equal_value_is_ok_and_nothing_is_written() -> None:
    fake = pbx()
    run = run_text(RENAME, fake, extra_vars={"ext": "201", "new_name": "Reception"}, apply=True)
    assert run.steps[0].status is StepStatus.OK
    assert "already 'Reception': nothing written" in run.steps[0].message
    assert fake.writes == []


def test_verify_failure_rolls_back_and_the_pbx_ends_as_it_started() -> None:
    fake = pbx()
    start = dict(fake.settings)
    fake.store_instead["Sales"] = "SALES"  # the PBX upper-cases: read back differs
    run = run_text(RENAME, fake, extra_vars=VARS, apply=True)
    step = run.steps[0]
    assert step.status is StepStatus.FAILED
    assert "wrote 'Sales' but read back 'SALES'" in step.message
    assert "rolled back to 'Reception' (verified)" in step.message
    assert step.diff == {"setting": "extension_name", "target": "201", "before": "Reception",
                         "after": "Sales"}
    assert step.rollback == {"setting": "extension_name", "target": "201", "before": "SALES",
                             "after": "Reception"}
    assert fake.settings == start
    assert fake.writes == [("extension_name", "Sales", "201"),
                           ("extension_name", "Reception", "201")]
    assert run.steps[1].status is StepStatus.OK  # continue_on_failure defaults to true
    assert run.half_programmed is False and run.status.value == "failed"


def test_refused_write_is_verified_unchanged_and_not_rewritten() -> None:
    fake = pbx()
    fake.refuse_writes.add("Sales")
    run = run_text(RENAME, fake, extra_vars=VARS, apply=True)
    step = run.steps[0]
    assert step.status is StepStatus.FAILED
    assert "ERROR 02: INVALID PARAMETER" in step.message
    assert "still holds 'Reception' (verified), nothing to roll back" in step.message
    assert step.rollback is None
    assert fake.writes == [] and fake.settings == {"extension_name:201": "Reception"}


def test_failed_rollback_is_half_programmed_and_stops_the_run() -> None:
    fake = pbx()
    fake.store_instead["Sales"] = "SALES"
    fake.refuse_writes.add("Reception")  # the restore is refused too
    with capture_logs() as logs:
        run = run_text(RENAME, fake, extra_vars=VARS, apply=True)
    step, after = run.steps
    assert step.status is StepStatus.ERROR
    assert step.message.startswith("PBX LEFT HALF-PROGRAMMED: extension_name 201 should be "
                                   "back at 'Reception'")
    assert "then the rollback failed" in step.message
    assert run.half_programmed is True
    assert (after.status, after.message) == (StepStatus.SKIPPED,
                                             "skipped: the PBX was left half-programmed")
    assert any(entry["event"] == "pbx.half_programmed" for entry in logs)
    assert fake.settings["extension_name:201"] == "SALES"  # the truth, reported loudly


def test_line_lost_mid_change_is_half_programmed_and_propagates() -> None:
    fake = pbx()
    fake.drop_on_write = "Sales"
    run = new_run()
    from agent.playbook import RunOptions, parse_playbook, run_playbook

    with pytest.raises(LineDropped):
        run_playbook(parse_playbook("name: t\nsteps:\n" + RENAME), fake, run,
                     extra_vars=VARS, options=RunOptions(apply=True))
    assert run.half_programmed is True
    (step,) = run.steps
    assert step.status is StepStatus.ERROR and "the line was lost while changing" in step.message


def test_value_outside_the_settings_values_is_refused_before_reading() -> None:
    fake = FakePbx(settings={"time_service_mode": "day"})
    run = run_text('  - name: Mode\n    set: {setting: time_service_mode, value: "{{ m }}"}\n',
                   fake, extra_vars={"m": "dusk"}, apply=True)
    assert run.steps[0].status is StepStatus.ERROR
    assert "'dusk' is not a value of time_service_mode" in run.steps[0].message
    assert fake.calls == []


def test_literal_bad_value_is_a_load_error() -> None:
    from agent.errors import PlaybookError

    with pytest.raises(PlaybookError, match='"dusk" is not a value of setting'):
        run_text("  - name: Mode\n    set: {setting: time_service_mode, value: dusk}\n",
                 FakePbx())


def test_write_only_pin_is_written_masked_and_never_recorded() -> None:
    pin = "98127"
    fake = FakePbx()
    step_text = ('  - name: New PIN\n    set: {setting: extension_pin, target: "201", '
                 'value: "{{ answers.pin }}"}\n')
    ask = "  - name: PIN\n    ask: {key: pin, type: secret, question: 'New PIN?'}\n"
    with capture_logs() as logs:
        run = run_text(ask + step_text, fake, answers={"pin": pin}, apply=True)
    _, step = run.steps
    assert step.status is StepStatus.CHANGED
    assert "write-only: cannot be read back" in step.message
    assert step.diff == {"setting": "extension_pin", "target": "201", "before": None,
                         "after": MASK}
    assert fake.writes == [("extension_pin", pin, "201")]
    assert run.answers == {"pin": MASK}
    assert pin not in json.dumps(run.to_json()) + repr(logs)


def test_write_only_pin_in_check_mode_writes_nothing() -> None:
    fake = FakePbx()
    run = run_text('  - name: PIN\n    set: {setting: extension_pin, target: "201", '
                   'value: "1234"}\n', fake)
    assert run.steps[0].status is StepStatus.CHANGED
    assert "check mode: would write extension_pin 201" in run.steps[0].message
    assert fake.writes == [] and "1234" not in json.dumps(run.to_json())


def test_clock_read_back_a_second_later_counts_as_equal() -> None:
    fake = FakePbx(settings={"clock": "2026-01-01T10:00:00"})
    fake.store_instead["2026-01-01T12:00:00"] = "2026-01-01T12:00:01"
    run = run_text('  - name: Clock\n    set: {setting: clock, value: "2026-01-01T12:00:00"}\n',
                   fake, apply=True)
    assert run.steps[0].status is StepStatus.CHANGED
    assert fake.settings["clock"] == "2026-01-01T12:00:01"


def test_clock_within_slack_is_already_set() -> None:
    fake = FakePbx(settings={"clock": "2026-01-01T12:00:03"})
    run = run_text('  - name: Clock\n    set: {setting: clock, value: "2026-01-01T12:00:00"}\n',
                   fake, apply=True)
    assert run.steps[0].status is StepStatus.OK and fake.writes == []


def test_driver_without_settings_makes_set_an_error_not_a_skip() -> None:
    run = run_text(RENAME, NoSettingsPbx(getters={"extensions": []}), extra_vars=VARS,
                   apply=True)
    assert run.steps[0].status is StepStatus.ERROR
    assert "cannot change extension_name 201" in run.steps[0].message
    assert "nothing written" in run.steps[0].message


def test_continue_on_failure_false_stops_the_run_after_a_failed_change() -> None:
    fake = pbx()
    fake.refuse_writes.add("Sales")
    text = RENAME.replace('value: "{{ new_name }}"}\n',
                          'value: "{{ new_name }}"}\n    continue_on_failure: false\n')
    run = run_text(text, fake, extra_vars=VARS, apply=True)
    assert statuses(run) == [("Rename", "failed"), ("Afterwards", "skipped")]
    assert 'stopped after "Rename" failed (continue_on_failure: false)' in run.steps[1].message
    assert fake.calls[-1][0] == "read"  # the getter never ran


def test_set_loop_changes_each_item_with_its_own_diff() -> None:
    fake = FakePbx(settings={"extension_name:201": "A", "extension_name:202": "B"})
    text = """\
  - name: Rename
    set: {setting: extension_name, target: "{{ item.ext }}", value: "{{ item.name }}"}
    loop:
      - {ext: "201", name: A}
      - {ext: "202", name: Sales}
"""
    run = run_text(text, fake, apply=True)
    assert statuses(run) == [("Rename [#1]", "ok"), ("Rename [#2]", "changed")]
    assert run.steps[1].item == {"ext": "202", "name": "Sales"}
    assert fake.settings == {"extension_name:201": "A", "extension_name:202": "Sales"}


class _BrokenAfterWrite(FakePbx):
    """A driver with a bug: the read-back after a write raises something unexpected."""

    def read_setting(self, key: str, target: str | None = None) -> str | None:
        if self.writes:
            raise KeyError("IN5")
        return super().read_setting(key, target)


def test_an_unexpected_exception_after_a_write_flags_the_pbx_maybe_half_programmed() -> None:
    pbx = _BrokenAfterWrite(settings={"extension_name:201": "Reception"})
    run = run_text("  - name: Rename\n    set: {setting: extension_name, target: '201', "
                   "value: Front}\n  - name: After\n    get: trunks\n", pbx, apply=True)
    rename, after = run.steps
    assert rename.status is StepStatus.ERROR and rename.cause is ErrorCause.INTERNAL
    assert rename.message.startswith("PBX MAY BE HALF-PROGRAMMED: a write had been sent")
    assert "KeyError" in rename.message
    assert run.half_programmed is True
    assert after.status is StepStatus.SKIPPED  # nothing more is done to that PBX
    assert pbx.writes == [("extension_name", "Front", "201")]


def test_an_unexpected_exception_before_any_write_is_an_internal_error_step_only() -> None:
    pbx = FakePbx(getters={"trunks": ZeroDivisionError("bug")}, settings={})
    pbx.getters["alarms"] = []
    run = run_text("  - name: CO lines\n    get: trunks\n  - name: Alarms\n    get: alarms\n",
                   pbx)
    broken, alarms = run.steps
    assert broken.status is StepStatus.ERROR and broken.cause is ErrorCause.INTERNAL
    assert "unexpected ZeroDivisionError in pbxdiag: bug" in broken.message
    assert run.half_programmed is False
    assert alarms.status is StepStatus.OK  # the run went on
