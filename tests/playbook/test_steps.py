"""Every step kind and keyword, run against the fake PBX: results, evidence, skips."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest

from agent.errors import ParseError, PlaybookError
from agent.playbook import RunOptions, parse_playbook, run_playbook
from agent.result import StepStatus
from drivers.model import OperatingMode, SystemInfo

from .fakes import FakePbx, NoSettingsPbx, ScriptedAsker, new_run, run_text, statuses

TRUNKS_UP = [{"number": 1, "state": "in_service"}, {"number": 2, "state": "in_service"}]
INFO = SystemInfo("panasonic", "KX-TDE200", "PMPR Software File Version 5.0000")


# --- command -------------------------------------------------------------------------


COMMAND = """\
  - name: Raw error log
    command: {panasonic: "ERR", toshiba: "LOG"}
    expect_output: ['^\\d\\d/\\d\\d/\\d\\d ']
    reject_output: ['MJ ALM #0(02|10)']
    register: raw_log
  - name: Uses it
    get: cards
    expect: ['"SMDR" in raw_log']
"""
LOG = "06/01/11 14:44    MN ALM #510 00 10000 SMDR disconnect"


def test_command_per_vendor_with_output_patterns() -> None:
    fake = FakePbx(commands={"ERR": LOG}, getters={"cards": []})
    run = run_text(COMMAND, fake)
    assert statuses(run) == [("Raw error log", "ok"), ("Uses it", "ok")]
    assert run.steps[0].output == LOG and run.steps[0].action == "command"
    assert ("command", "ERR") in fake.calls


def test_command_output_patterns_fail_the_step() -> None:
    bad = "06/01/11 14:44    MJ ALM #010 00 10000 AC power down"
    run = run_text(COMMAND, FakePbx(commands={"ERR": bad}, getters={"cards": []}))
    assert run.steps[0].status is StepStatus.FAILED
    assert "output matches /MJ ALM #0(02|10)/" in run.steps[0].message
    assert run.steps[1].status is StepStatus.FAILED  # registered even though it failed


def test_command_for_another_vendor_is_skipped_with_the_reason() -> None:
    fake = FakePbx(vendor="toshiba", getters={"cards": []})
    text = '  - name: Raw\n    command: "ERR"\n    vendors: [panasonic]\n'
    run = run_text(text, fake)
    assert statuses(run) == [("Raw", "skipped")]
    assert run.steps[0].message == "not for toshiba: only panasonic"
    assert fake.calls == []


def test_command_string_without_vendors_is_a_load_error() -> None:
    with pytest.raises(PlaybookError, match=r"missing required key \"vendors\".*one vendor's"):
        parse_playbook("name: x\nsteps:\n  - name: Raw\n    command: ERR\n")


def test_rejected_command_is_a_step_error() -> None:
    run = run_text('  - name: Raw\n    command: {panasonic: "FOO"}\n',
                   FakePbx(commands={"FOO": "ERROR 01: UNKNOWN COMMAND"}))
    assert run.steps[0].status is StepStatus.ERROR
    assert "UNKNOWN COMMAND" in run.steps[0].message


def test_command_that_changes_the_pbx_is_held_back_in_check_mode() -> None:
    fake = FakePbx(commands={"PAGE 10": "OK"})
    text = '  - name: Pager\n    command: {panasonic: "PAGE 10"}\n    changes: true\n'
    assert run_text(text, fake).steps[0].status is StepStatus.SKIPPED
    assert fake.calls == []
    assert run_text(text, fake, apply=True).steps[0].status is StepStatus.CHANGED


def test_templated_command_cannot_smuggle_a_second_line() -> None:
    fake = FakePbx(commands={})
    text = '  - name: Raw\n    command: {panasonic: "ERR {{ x }}"}\n'
    run = run_text(text, fake, extra_vars={"x": "\rPRG\rWRITE 101 = NIGHT MANUAL"})
    assert run.steps[0].status is StepStatus.ERROR
    assert "line break or control character" in run.steps[0].message
    assert fake.calls == []


# --- read, backup, unsupported ----------------------------------------------------------


def test_read_setting_is_evidence_and_result() -> None:
    fake = FakePbx(settings={"extension_forward:201": "none"})
    text = ('  - name: Forwarding\n    read: {setting: extension_forward, target: "201"}\n'
            '    expect: [\'result == "none"\']\n')
    run = run_text(text, fake)
    assert run.steps[0].status is StepStatus.OK
    assert run.facts["settings"] == {"extension_forward 201": "none"}


def test_reading_a_write_only_setting_is_a_load_error() -> None:
    with pytest.raises(PlaybookError, match="write-only: it cannot be read back"):
        parse_playbook("name: x\nsteps:\n  - name: P\n    read: {setting: extension_pin, "
                       "target: '201'}\n")


@pytest.mark.parametrize(("text", "words"), [
    ("  - name: C\n    read: {setting: clock, target: '1'}\n", 'has no target; remove "target"'),
    ("  - name: N\n    read: {setting: extension_name}\n", "needs a target (the extension)"),
])
def test_setting_targets_are_checked_at_load(text: str, words: str) -> None:
    with pytest.raises(PlaybookError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_playbook("name: x\nsteps:\n" + text)


def test_backup_is_kept_as_evidence() -> None:
    fake = FakePbx(backup_text="004 201 = \"Reception\"\n101 = DAY AUTO\n")
    run = run_text("  - name: Backup\n    backup: true\n", fake)
    assert run.steps[0].message == "backup taken: 2 settings"
    assert run.facts["backup"].startswith('004 201 = "Reception"')


def test_a_check_the_driver_cannot_make_yet_is_skipped_not_failed() -> None:
    text = "  - name: Clock\n    read: {setting: clock}\n  - name: Backup\n    backup: true\n"
    run = run_text(text, NoSettingsPbx())
    assert statuses(run) == [("Clock", "skipped"), ("Backup", "skipped")]
    assert run.steps[0].message.startswith("not supported by the panasonic driver: ")
    assert run.status.value == "passed"


def test_since_is_passed_to_the_driver_as_pbx_local_time() -> None:
    fake = FakePbx(getters={"error_log": []})
    text = "  - name: New\n    get: error_log\n    since: since\n"
    run_text(text, fake, extra_vars={"since": "2026-11-26T22:00:00"})
    assert fake.calls == [("get", "error_log", {"since": datetime(2026, 11, 26, 22, 0)})]
    fake.calls.clear()
    run_text(text, fake, extra_vars={"since": "24h"})
    since = fake.calls[0][2]["since"]
    assert abs(datetime.now() - timedelta(hours=24) - since) < timedelta(minutes=1)
    fake.calls.clear()
    run_text(text, fake, extra_vars={"since": None})
    assert fake.calls == [("get", "error_log", {})]


def test_since_on_a_getter_without_history_is_a_load_error() -> None:
    with pytest.raises(PlaybookError, match='only works with getters that keep a history'):
        parse_playbook("name: x\nsteps:\n  - name: A\n    get: alarms\n    since: '24h'\n")


def test_bad_since_is_a_step_error() -> None:
    run = run_text("  - name: New\n    get: error_log\n    since: '\"yesterday\"'\n",
                   FakePbx(getters={"error_log": []}))
    assert run.steps[0].status is StepStatus.ERROR
    assert "since must be an ISO 8601 time" in run.steps[0].message


# --- ask -----------------------------------------------------------------------------


QUESTIONS = """\
  - name: Internal calls
    ask: {key: internal_ok, type: yes_no, question: "Can they call internally?"}
  - name: Affected
    ask: {key: scope, type: choice, choices: [all, some, one], question: "Which?"}
  - name: Only when internal calls fail
    get: extensions
    when: not answers.internal_ok
"""


def test_answers_given_in_advance_are_recorded_and_visible() -> None:
    fake = FakePbx(getters={"extensions": []})
    run = run_text(QUESTIONS, fake, answers={"internal_ok": "No", "scope": "ALL"})
    assert run.answers == {"internal_ok": False, "scope": "all"}
    assert statuses(run) == [("Internal calls", "ok"), ("Affected", "ok"),
                             ("Only when internal calls fail", "ok")]
    assert run.steps[0].message == "internal_ok = False (given in advance)"


def test_a_yes_answer_skips_the_conditional_step() -> None:
    fake = FakePbx(getters={"extensions": []})
    run = run_text(QUESTIONS, fake, answers={"internal_ok": True, "scope": "one"})
    assert run.steps[2].status is StepStatus.SKIPPED
    assert run.steps[2].message == "condition is false: not answers.internal_ok"
    assert fake.calls == []


def test_missing_answer_without_a_terminal_is_a_step_error_not_a_hang() -> None:
    run = run_text(QUESTIONS, FakePbx(getters={"extensions": []}), answers={"scope": "one"})
    assert run.steps[0].status is StepStatus.ERROR
    assert "no answer for 'internal_ok': give --answer internal_ok=..." in run.steps[0].message
    assert run.steps[2].status is StepStatus.ERROR  # answers.internal_ok is undefined
    assert "internal_ok" in run.steps[2].message


def test_invalid_given_answer_is_a_step_error() -> None:
    run = run_text(QUESTIONS, FakePbx(getters={"extensions": []}),
                   answers={"internal_ok": "maybe", "scope": "one"})
    assert run.steps[0].status is StepStatus.ERROR
    assert "answer yes or no, not 'maybe'" in run.steps[0].message


def test_terminal_asks_again_after_a_bad_answer() -> None:
    asker = ScriptedAsker("perhaps", "y", "several", "Some")
    run = run_text(QUESTIONS, FakePbx(getters={"extensions": []}), asker=asker)
    assert run.answers == {"internal_ok": True, "scope": "some"}
    assert asker.prompts[0] == ("Can they call internally? [yes/no] ", False)
    assert asker.prompts[2] == ("Which? [all/some/one] ", False)
    assert asker.told == ["answer yes or no, not 'perhaps'",
                          "answer one of all, some, one, not 'several'"]
    assert run.steps[0].message.endswith("(answered at the terminal)")


def test_terminal_input_ending_is_a_step_error() -> None:
    run = run_text(QUESTIONS, FakePbx(getters={"extensions": []}), asker=ScriptedAsker())
    assert "input ended" in run.steps[0].message


def test_unknown_answer_key_is_refused_before_anything_runs() -> None:
    fake = FakePbx(getters={"extensions": []})
    with pytest.raises(PlaybookError, match="no question has the answer key intrnal_ok"):
        run_text(QUESTIONS, fake, answers={"intrnal_ok": "no"})
    assert fake.calls == []


def test_the_same_answer_key_twice_is_a_load_error() -> None:
    text = QUESTIONS + '  - name: Again\n    ask: {key: scope, type: text, question: "Q"}\n'
    with pytest.raises(PlaybookError, match='answer key "scope" is already asked by step '
                                            '"Affected"'):
        parse_playbook("name: x\nsteps:\n" + text)


def test_choices_need_type_choice_and_choice_needs_choices() -> None:
    with pytest.raises(PlaybookError, match='"choices" only go with type "choice"'):
        parse_playbook('name: x\nsteps:\n  - name: Q\n    ask: {key: a, type: text, '
                       'question: q, choices: [x, y]}\n')
    with pytest.raises(PlaybookError, match='missing required key "choices"'):
        parse_playbook("name: x\nsteps:\n  - name: Q\n    ask: {key: a, type: choice, "
                       "question: q}\n")


# --- wait ----------------------------------------------------------------------------


WAIT = """\
  - name: Card back
    wait:
      get: cards
      until: all_match(result, status="in_service")
      timeout: {timeout}
      interval: 0.01
"""


def cards_coming_back(after: int) -> Any:
    polls = iter(range(1000))

    def answer() -> list[dict[str, str]]:
        return [{"status": "in_service" if next(polls) >= after else "fault"}]
    return answer


def test_wait_polls_until_the_condition_holds() -> None:
    fake = FakePbx(getters={"cards": cards_coming_back(after=3)})
    run = run_text(WAIT.format(timeout=5), fake)
    step = run.steps[0]
    assert (step.status, step.attempts) == (StepStatus.OK, 4)
    assert step.message == 'all_match(result, status="in_service") after 4 polls'
    assert run.facts["cards"] == [{"status": "in_service"}]


def test_wait_fails_at_the_deadline_and_polls_past_errors() -> None:
    fake = FakePbx(getters={"cards": ParseError("card list", [(1, "@@")])})
    run = run_text(WAIT.format(timeout=0.05), fake)
    step = run.steps[0]
    assert step.status is StepStatus.FAILED and step.attempts >= 2
    assert "after 0.05s" in step.message and "last poll: could not parse card list" \
        in step.message


def test_wait_ends_at_once_when_the_run_is_cancelled() -> None:
    stop = threading.Event()
    stop.set()
    fake = FakePbx(getters={"cards": [{"status": "fault"}]})
    run = run_text(WAIT.format(timeout=600) + "  - name: Next\n    get: cards\n", fake,
                   stop=stop)
    assert statuses(run) == [("Card back", "skipped"), ("Next", "skipped")]
    assert run.steps[0].message == "the run was cancelled"


def test_interval_longer_than_timeout_is_a_load_error() -> None:
    with pytest.raises(PlaybookError, match=r"the interval \(20s\) is longer than the timeout"):
        parse_playbook("name: x\nsteps:\n" + WAIT.format(timeout=5).replace("0.01", "20"))


# --- loop, register, when, vars --------------------------------------------------------


def test_loop_over_a_list_with_loop_var_and_per_item_when() -> None:
    fake = FakePbx(getters={"extensions": [{"number": "201", "state": "idle"},
                                           {"number": "202", "state": "fault"}]})
    text = """\
  - name: Extension works
    get: extensions
    loop: ["201", "202", "{{ third }}"]
    loop_var: ext
    when: ext != "299"
    expect: ['any_match(result, number=ext, state="idle")']
    register: checks
  - name: Summary
    get: extensions
    expect: ['checks | length == 3', 'checks[2] is none']
"""
    run = run_text(text, fake, extra_vars={"third": "299"})
    assert statuses(run) == [("Extension works [201]", "ok"), ("Extension works [202]", "failed"),
                             ("Extension works [299]", "skipped"), ("Summary", "ok")]
    assert [s.item for s in run.steps[:3]] == ["201", "202", "299"]


def test_loop_over_an_expression() -> None:
    fake = FakePbx(getters={"trunks": TRUNKS_UP})
    text = """\
  - name: All trunks
    get: trunks
    register: all_trunks
  - name: Trunk up
    get: trunks
    loop: all_trunks | map(attribute="number") | list
    expect: ['any_match(result, number=item, state="in_service")']
"""
    run = run_text(text, fake)
    assert statuses(run)[1:] == [("Trunk up [1]", "ok"), ("Trunk up [2]", "ok")]


def test_loop_expression_must_give_a_list() -> None:
    run = run_text("  - name: L\n    get: cards\n    loop: '5'\n", FakePbx(getters={"cards": []}))
    assert run.steps[0].status is StepStatus.ERROR
    assert "must give a list, got a number" in run.steps[0].message


def test_a_loop_is_capped_before_any_item_runs() -> None:
    """Issue 13 #5: a 200,000-item loop ran 67 s and wrote an 85 MB result."""
    from agent.playbook.engine import MAX_LOOP_ITEMS

    fake = FakePbx(getters={"cards": []})
    run = run_text("  - name: L\n    get: cards\n    loop: \"['x'] * 200000\"\n", fake)
    assert len(run.steps) == 1 and run.steps[0].status is StepStatus.ERROR
    assert f"200000 items (at most {MAX_LOOP_ITEMS})" in run.steps[0].message
    ok = run_text(f"  - name: L\n    get: cards\n    loop: \"['x'] * {MAX_LOOP_ITEMS}\"\n",
                  FakePbx(getters={"cards": []}))
    assert len(ok.steps) == MAX_LOOP_ITEMS


def test_step_vars_are_rendered_and_extra_vars_still_win() -> None:
    fake = FakePbx(getters={"cards": []})
    text = """\
  - name: Vars
    get: cards
    vars: {greeting: "hello {{ who }}", who2: "{{ who }}"}
    expect: ['greeting == "hello world"', 'who2 == "override"']
"""
    run = run_text("name: t\nvars: {who: world}\nsteps:\n" + text, fake,
                   extra_vars={"who2": "override"})
    assert run.steps[0].status is StepStatus.OK, run.steps[0].message


def test_skipped_step_registers_nothing() -> None:
    fake = FakePbx(getters={"cards": []})
    text = ("  - name: A\n    get: cards\n    when: false\n    register: a\n"
            "  - name: B\n    get: cards\n    expect: ['a is not defined']\n")
    assert statuses(run_text(text, fake)) == [("A", "skipped"), ("B", "ok")]


def test_builtins_now_check_mode_and_working_hours() -> None:
    fake = FakePbx(getters={"cards": []})
    text = """\
  - name: Builtins
    get: cards
    expect:
      - check_mode
      - in_working_hours
      - seconds_between(now, "2000-01-01T00:00:00") < 0
"""
    run = run_text(text, fake, in_working_hours=True)
    assert run.steps[0].status is StepStatus.OK, run.steps[0].message
    assert run_text(text, fake, in_working_hours=True, apply=True).steps[0].status \
        is StepStatus.FAILED


# --- retries / until -------------------------------------------------------------------


def flaky_mode(bad: int) -> Any:
    calls = iter(range(100))

    def answer() -> OperatingMode:
        return OperatingMode("night" if next(calls) < bad else "day", automatic=True)
    return answer


RETRY = """\
  - name: Day mode
    get: operating_mode
    retries: 3
    delay: 0
    until: result.mode == "day"
    expect: ['result.automatic']
"""


def test_retries_until_the_condition_holds_and_records_attempts() -> None:
    run = run_text(RETRY, FakePbx(getters={"operating_mode": flaky_mode(bad=2)}))
    step = run.steps[0]
    assert (step.status, step.attempts) == (StepStatus.OK, 3)
    assert step.message == "read operating_mode; 1 expectation held"


def test_the_last_failed_attempt_fails_the_step() -> None:
    run = run_text(RETRY, FakePbx(getters={"operating_mode": flaky_mode(bad=99)}))
    step = run.steps[0]
    assert (step.status, step.attempts) == (StepStatus.FAILED, 4)
    assert step.message == 'still not result.mode == "day" after 4 attempts'


def test_errors_are_retried_too() -> None:
    answers = iter([ParseError("mode", [(1, "@@")]), OperatingMode("day", automatic=True)])
    run = run_text(RETRY, FakePbx(getters={"operating_mode": lambda: next(answers)}))
    assert (run.steps[0].status, run.steps[0].attempts) == (StepStatus.OK, 2)


@pytest.mark.parametrize(("keys", "words"), [
    ("retries: 3", '"retries" in step 1 ("S") needs "until" too'),
    ("until: result", '"until" in step 1 ("S") needs "retries" too'),
    ("delay: 1", '"delay" in step 1 ("S") needs "retries" too'),
    ("loop_var: x", '"loop_var" in step 1 ("S") needs "loop" too'),
])
def test_retry_keys_need_each_other(keys: str, words: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(f"name: x\nsteps:\n  - name: S\n    get: cards\n    {keys}\n")
    assert caught.value.message.startswith(words)
    assert (caught.value.line, caught.value.column) == (5, 5)


def test_retries_on_a_set_step_are_refused() -> None:
    with pytest.raises(PlaybookError, match=r'"retries" cannot be used with "set".*never '
                                            r'repeated blindly'):
        parse_playbook("name: x\nsteps:\n  - name: S\n    set: {setting: clock, value: x}\n"
                       "    retries: 2\n    until: result\n")


# --- tags ----------------------------------------------------------------------------


TAGGED = """\
  - {name: Alarms, get: alarms, tags: [alarms]}
  - {name: Cards, get: cards, tags: [cards, hardware]}
  - {name: Identity, get: system_info, tags: [always]}
  - {name: SMDR, get: call_records, tags: [smdr, never]}
"""


def tagged_run(**options: Any) -> list[tuple[str, str]]:
    fake = FakePbx(getters={"alarms": [], "cards": [], "system_info": INFO, "call_records": []})
    return statuses(run_text(TAGGED, fake, **options))


def test_tags_select_steps_always_runs_never_waits_to_be_named() -> None:
    assert tagged_run() == [("Alarms", "ok"), ("Cards", "ok"), ("Identity", "ok"),
                            ("SMDR", "skipped")]
    assert tagged_run(tags=frozenset({"hardware"})) == [
        ("Alarms", "skipped"), ("Cards", "ok"), ("Identity", "ok"), ("SMDR", "skipped")]
    assert tagged_run(tags=frozenset({"smdr"})) == [
        ("Alarms", "skipped"), ("Cards", "skipped"), ("Identity", "ok"), ("SMDR", "ok")]
    assert tagged_run(tags=frozenset({"all", "smdr"})) == [
        ("Alarms", "ok"), ("Cards", "ok"), ("Identity", "ok"), ("SMDR", "ok")]
    assert tagged_run(skip_tags=frozenset({"cards", "always"})) == [
        ("Alarms", "ok"), ("Cards", "skipped"), ("Identity", "skipped"), ("SMDR", "skipped")]


def test_skip_reasons_name_the_option() -> None:
    fake = FakePbx(getters={"alarms": [], "cards": [], "system_info": INFO})
    run = run_text(TAGGED, fake, tags=frozenset({"cards"}), skip_tags=frozenset({"hardware"}))
    assert run.steps[0].message == "not selected by --tags cards"
    assert run.steps[1].message == "skipped by --skip-tags hardware"


def test_unknown_tag_is_an_error_not_an_empty_run() -> None:
    with pytest.raises(PlaybookError, match=r"unknown tag smdrr \(tags in this playbook: "
                                            r"alarms, always, cards, hardware, never, smdr\)"):
        tagged_run(tags=frozenset({"smdrr"}))


# --- vendors and models ------------------------------------------------------------------


def test_vendor_and_model_filters_skip_with_the_reason_and_read_the_model_once() -> None:
    fake = FakePbx(getters={"cards": [], "system_info": INFO})
    text = """\
  - {name: Toshiba only, get: cards, vendors: [toshiba]}
  - {name: NS only, get: cards, models: ["KX-NS*"]}
  - {name: TDE, get: cards, models: ["kx-tde*"]}
  - {name: TDE again, get: cards, models: ["KX-TDE200"]}
"""
    run = run_text(text, fake)
    assert statuses(run) == [("Toshiba only", "skipped"), ("NS only", "skipped"),
                             ("TDE", "ok"), ("TDE again", "ok")]
    assert run.steps[0].message == "not for panasonic: only toshiba"
    assert run.steps[1].message == "not for model KX-TDE200: only KX-NS*"
    assert [c for c in fake.calls if c[1] == "system_info"] == [("get", "system_info", {})]


def test_model_given_by_the_caller_is_not_fetched() -> None:
    fake = FakePbx(getters={"cards": []})
    run = run_text("  - {name: NS, get: cards, models: ['KX-NS*']}\n", fake, model="KX-NS1000")
    assert run.steps[0].status is StepStatus.OK


# --- continue_on_failure -----------------------------------------------------------------


def test_a_failed_check_does_not_stop_later_checks_unless_told_to() -> None:
    fake = FakePbx(getters={"trunks": [{"state": "fault"}], "cards": []})
    text = """\
  - name: Trunks
    get: trunks
    expect: ['any_match(result, state="in_service")']
    continue_on_failure: false
  - name: Cards
    get: cards
"""
    run = run_text(text, fake)
    assert statuses(run) == [("Trunks", "failed"), ("Cards", "skipped")]
    run = run_text(text.replace("    continue_on_failure: false\n", ""), fake)
    assert statuses(run) == [("Trunks", "failed"), ("Cards", "ok")]


# --- the engine needs the driver only when a step does -------------------------------


def test_run_playbook_options_default_to_check_mode() -> None:
    fake = FakePbx(settings={"time_service_mode": "day"})
    run = run_playbook(parse_playbook("name: x\nsteps:\n  - name: M\n    set: "
                                      "{setting: time_service_mode, value: night}\n"),
                       fake, new_run(), options=RunOptions())
    assert run.steps[0].status is StepStatus.CHANGED and fake.writes == []


def test_vars_that_cannot_render_only_matter_if_the_step_runs() -> None:
    fake = FakePbx(getters={"cards": []})
    text = """\
  - name: Skipped anyway
    get: cards
    when: false
    vars: {named: "{{ answers.not_asked }}"}
  - name: Runs
    get: cards
    vars: {named: "{{ answers.not_asked }}"}
"""
    run = run_text(text, fake)
    assert statuses(run) == [("Skipped anyway", "skipped"), ("Runs", "error")]
    assert run.steps[1].message.startswith("vars: '{{ answers.not_asked }}': ")
