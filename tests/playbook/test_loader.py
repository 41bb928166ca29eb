"""Loader: a good file becomes the model; every bad file becomes a located PlaybookError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from agent.errors import PlaybookError
from agent.playbook import (
    GetStep,
    OnFailure,
    PlaybookInvalidError,
    Priority,
    load_playbook,
    parse_playbook,
    schema,
    step_kinds,
)
from drivers.base import GETTERS, SETTINGS

BROKEN = Path(__file__).parent / "broken"

HEALTH_CHECK = """\
name: Health check
description: Scheduled health check of a PBX
vars: {max_minor_alarms: 3}
steps:
  - name: No major alarm active
    get: alarms
    expect:
      - count(result, level="major") == 0
      - count(result, level="minor") <= max_minor_alarms
    register: alarms_now
    on_failure:
      priority: P2
      summary: A major alarm is active
    tags: [alarms]
  - name: Cards in service
    get: cards
"""

#: file → (line, column, words the message must contain). Every file in broken/ is listed.
EXPECTED: dict[str, tuple[int, int, str]] = {
    "unknown_key.yaml": (5, 5, 'unknown key "expects" in step 1 ("No major alarm active"); '
                               'did you mean "expect"?'),
    "unknown_on_failure_key.yaml": (5, 18, 'unknown key "prio"'),
    "missing_step_name.yaml": (5, 5, 'missing required key "name" in step 2'),
    "missing_playbook_name.yaml": (1, 1, 'missing required key "name" at the top level'),
    "wrong_type_steps.yaml": (2, 8, '"steps" must be a list, got a string'),
    "wrong_type_expect_item.yaml": (6, 9, "must be a string, got a boolean; quote it"),
    "wrong_type_expect_scalar.yaml": (5, 13, '"expect" in step 1 ("Alarms read") must be a list'),
    "unknown_getter.yaml": (6, 10, 'unknown getter "alarm" in step 2 ("Alarms"); '
                                   'did you mean "alarms"? (valid getters: system_info, alarms'),
    "bad_priority.yaml": (6, 17, "must be one of P1, P2, P3, got \"P4\""),
    "jinja_syntax.yaml": (7, 9, "invalid expression in item 2 of \"expect\""),
    "jinja_syntax_block.yaml": (8, 11, "unexpected end of expression"),
    "jinja_assignment.yaml": (5, 14, "use == to compare"),
    "duplicate_step_name.yaml": (7, 11, 'duplicate step name "Alarms" (first used on line 3)'),
    "duplicate_key.yaml": (5, 5, 'duplicate key "get" (first on line 4)'),
    "yaml_syntax.yaml": (6, 9, "YAML syntax error: while parsing a flow sequence "
                               "(started on line 5, column 13)"),
    "yaml_bad_indent.yaml": (4, 9, "check this line's indentation"),
    "tabs.yaml": (3, 1, "YAML does not allow tabs"),
    "empty.yaml": (1, 1, "the playbook is empty"),
    "only_comments.yaml": (1, 1, "the playbook is empty"),
    "not_a_mapping.yaml": (1, 1, "the playbook must be a mapping, got a list"),
    "empty_steps.yaml": (2, 8, '"steps" must not be empty'),
    "no_action.yaml": (3, 5, 'step 1 ("Alarms") has no action: add "get: ..."'),
    "python_tag.yaml": (3, 12, "tags like !!python are refused"),
    "reserved_register.yaml": (5, 15, 'register "result" in step 1 ("Alarms") would hide'),
    "bad_var_name.yaml": (3, 3, 'name "max-minor" in "vars" is not a valid name'),
    "retries_without_until.yaml": (5, 5, '"retries" in step 1 ("Alarms") needs "until" too'),
    "retries_zero.yaml": (6, 14, '"retries" in step 1 ("Mode") must be at least 1, got 0'),
    "command_without_vendors.yaml": (3, 5, 'missing required key "vendors" in step 1 '
                                           "(\"Error log\"); a command string is one vendor's"),
    "unknown_setting.yaml": (5, 16, 'got "extension_nam"; did you mean "extension_name"?'),
    "set_missing_target.yaml": (5, 7, 'setting "extension_name" needs a target (the extension)'),
    "ask_bad_type.yaml": (6, 13, '"ask.type" in step 1 ("Power cut") must be one of yes_no, '
                                 "choice, text, secret"),
    "include_cycle.yaml": (6, 14, "include cycle: include_cycle.yaml → include_cycle.yaml"),
    "include_missing.yaml": (4, 14, 'cannot include "no-such-playbook.yaml": cannot read'),
    "bad_output_regex.yaml": (7, 9, 'bad regular expression in item 2 of "expect_output"'),
    "template_statement.yaml": (5, 18, "only {{ expressions }} are allowed in playbook text"),
    "wait_missing_timeout.yaml": (5, 7, 'missing required key "timeout" in "wait" in step 1'),
    "loop_var_reserved.yaml": (6, 15, 'loop_var "result" in step 1 ("Trunks") would hide'),
    "register_on_include.yaml": (5, 5, '"register" cannot be used with "include" in step 1'),
    "since_on_alarms.yaml": (5, 5, '"since" in step 1 ("Alarms") only works with getters'),
    "backup_false.yaml": (4, 13, '"backup" in step 1 ("Backup") must be true'),
    "bad_when.yaml": (5, 11, 'invalid expression in "when" in step 1 ("Alarms"): '
                             "unexpected text after the expression; use == to compare"),
}
#: Broken only through what they include: the error is located in the included file.
INCLUDED: dict[str, tuple[str, int, int, str]] = {
    "include_broken.yaml": ("included/broken_inner.yaml", 7, 9,
                            'invalid expression in item 1 of "expect" in step 1 ("Cards")'),
}


def _error_for(path: Path) -> PlaybookError:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    return caught.value


# --- good files ----------------------------------------------------------------------


def test_health_check_becomes_the_model(tmp_path: Path) -> None:
    path = tmp_path / "health.yaml"
    path.write_text(HEALTH_CHECK, encoding="utf-8")
    playbook = load_playbook(path)
    assert playbook.name == "Health check"
    assert playbook.vars == {"max_minor_alarms": 3}
    assert playbook.path == str(path)
    first, second = playbook.steps
    assert isinstance(first, GetStep) and first.get == "alarms" and first.action == "get"
    assert [e.source for e in first.expect] == [
        'count(result, level="major") == 0',
        'count(result, level="minor") <= max_minor_alarms',
    ]
    assert first.register == "alarms_now"
    assert first.on_failure == OnFailure(Priority.P2, "A major alarm is active")
    assert first.tags == ("alarms",)
    assert first.where is not None and (first.where.line, first.where.column) == (5, 5)
    assert first.expect[1].where is not None and first.expect[1].where.line == 9
    assert second == GetStep(name="Cards in service", get="cards", where=second.where)


def test_yaml_merge_keys_and_anchors_are_plain_data() -> None:
    text = """\
name: anchors
steps:
  - &base {name: Alarms, get: alarms, on_failure: {priority: P1}}
  - {<<: *base, name: Error log, get: error_log}
"""
    playbook = parse_playbook(text)
    assert [s.name for s in playbook.steps] == ["Alarms", "Error log"]
    assert playbook.steps[1].on_failure == OnFailure(Priority.P1)


# --- the broken corpus ---------------------------------------------------------------


def test_every_broken_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted({*EXPECTED, *INCLUDED})


@pytest.mark.parametrize("name", sorted(INCLUDED))
def test_error_in_an_included_file_is_located_in_that_file(name: str) -> None:
    inner, line, column, words = INCLUDED[name]
    error = _error_for(BROKEN / name)
    assert error.path is not None and error.path.endswith(inner)
    assert (error.line, error.column) == (line, column), error.located()
    assert words in error.message


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_playbook_is_located(name: str) -> None:
    line, column, words = EXPECTED[name]
    error = _error_for(BROKEN / name)
    assert (error.line, error.column) == (line, column), error.located()
    assert words in error.message
    assert error.path == str(BROKEN / name)
    assert error.located().startswith(f"{BROKEN / name}:{line}:{column}: ")


def test_all_problems_are_reported_in_file_order() -> None:
    text = """\
name: x
colour: blue
steps:
  - name: a
    get: alarm
  - get: cards
"""
    with pytest.raises(PlaybookInvalidError) as caught:
        parse_playbook(text, path="pb.yaml")
    located = [(p.line, p.column) for p in caught.value.problems]
    assert located == [(2, 1), (5, 10), (6, 5)]
    assert caught.value.message.endswith("(and 2 more problems)")


def test_a_typo_replaces_the_missing_key_complaint() -> None:
    text = "name: x\nsteps:\n  - name: a\n    gett: alarms\n"
    with pytest.raises(PlaybookInvalidError) as caught:
        parse_playbook(text)
    (problem,) = caught.value.problems
    assert problem.message == 'unknown key "gett" in step 1 ("a"); did you mean "get"?'


def test_unknown_key_without_close_match_lists_allowed_keys() -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook("name: x\nzzz: 1\nsteps: [{name: a, get: cards}]\n")
    assert "allowed keys: description, name, required_vars, steps, vars" in caught.value.message


def test_more_than_one_action_is_refused() -> None:
    text = ("name: x\nsteps:\n  - name: a\n    get: cards\n    command: STATUS\n"
            "    vendors: [panasonic]\n")
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text)
    assert (caught.value.line, caught.value.column) == (3, 5)
    assert caught.value.message == (
        'step 1 ("a") has more than one action (get, command): split it into separate steps')


def test_unreadable_file_is_a_playbook_error(tmp_path: Path) -> None:
    error = _error_for(tmp_path / "missing.yaml")
    assert "cannot read playbook" in error.message


def test_non_utf8_file_points_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: ok\nsteps: caf\xe9\n")
    error = _error_for(path)
    assert (error.line, error.column, error.message) == (2, 11, "the playbook is not UTF-8 text")


def test_control_character_is_located() -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook("name: x\nsteps: a\x00\n")
    assert (caught.value.line, caught.value.column) == (2, 9)
    assert "U+0000" in caught.value.message


@pytest.mark.parametrize("text", [
    "name: x\nsteps: &s [*s]\n",
    "name: x\nsteps: [{name: a, get: cards}]\nvars: {a: " + "[" * 5000 + "]" * 5000 + "}\n",
])
def test_recursive_or_absurdly_deep_yaml_is_an_error(text: str) -> None:
    with pytest.raises(PlaybookError):
        parse_playbook(text)


# --- schema --------------------------------------------------------------------------


def _subschemas(node: Any) -> list[dict[str, Any]]:
    """Every schema node except ``if`` conditions (they test, they do not define)."""
    if isinstance(node, dict):
        return [node, *(s for key, value in node.items() if key != "if"
                        for s in _subschemas(value))]
    if isinstance(node, list):
        return [s for value in node for s in _subschemas(value)]
    return []


def test_schema_is_valid_draft_2020_12() -> None:
    doc = schema()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(doc)


def test_schema_closes_every_mapping() -> None:
    closed = [s for s in _subschemas(schema()) if "properties" in s]
    assert closed and all(s.get("additionalProperties") is False for s in closed)


def test_schema_enums_follow_the_code() -> None:
    defs = schema()["$defs"]
    assert tuple(defs["getter"]["enum"]) == GETTERS
    assert tuple(defs["setting"]["enum"]) == tuple(SETTINGS)
    step_actions = [option["required"][0] for option in defs["step"]["oneOf"]]
    assert step_actions == [kind.name for kind in step_kinds()]
    assert {kind.name for kind in step_kinds() if kind.run is None} == {"include"}
    assert defs["on_failure"]["properties"]["priority"]["enum"] == [p.value for p in Priority]


def test_schema_returns_a_fresh_copy() -> None:
    schema()["properties"].clear()
    assert "steps" in schema()["properties"]


# --- never a traceback ---------------------------------------------------------------


def _parse_or_playbook_error(text: str) -> None:
    try:
        parse_playbook(text, path="fuzz.yaml")
    except PlaybookError as error:
        assert error.message
        assert error.line is None or error.line >= 1
        assert error.column is None or error.column >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("name:stp -[]{}\"'|>&*!#\n\t0get,alrms=()")),
               max_size=120))
def test_garbage_never_gives_a_traceback(text: str) -> None:
    _parse_or_playbook_error(text)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_playbook_never_gives_a_traceback(data: st.DataObject) -> None:
    text = HEALTH_CHECK
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        insert = data.draw(st.text(alphabet=" :-[]{}\n\"'|*&!#x0=()", max_size=3))
        text = text[:at] + insert + text[at + cut:]
    _parse_or_playbook_error(text)


RICH = """\
name: Rich
vars: {ext: "201", since: 24h}
steps:
  - name: Q
    ask: {key: k, type: choice, choices: [a, b], question: "Q {{ ext }}"}
  - name: Raw
    command: {panasonic: "ERR {{ ext }}"}
    expect_output: ['^\\d']
    retries: 2
    until: result != ""
    delay: 0
  - name: S
    set: {setting: extension_name, target: "{{ ext }}", value: "x"}
    when: answers.k == "a"
    continue_on_failure: false
  - name: L
    get: error_log
    since: since
    loop: [1, "{{ ext }}"]
    loop_var: n
    vendors: [panasonic]
    models: ["KX-*"]
  - name: W
    wait: {get: cards, until: result, timeout: 5, interval: 1}
  - {name: B, backup: true}
"""


def test_rich_playbook_loads() -> None:
    playbook = parse_playbook(RICH)
    assert [step.action for step in playbook.steps] == [
        "ask", "command", "set", "get", "wait", "backup"]
    assert playbook.has_changes and playbook.ask_keys == {"k"}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_rich_playbook_never_gives_a_traceback(data: st.DataObject) -> None:
    text = RICH
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        insert = data.draw(st.text(alphabet=" :-[]{}\n\"'|*&!#x0=(){%}", max_size=3))
        text = text[:at] + insert + text[at + cut:]
    _parse_or_playbook_error(text)



def test_a_null_step_is_reported_not_raised() -> None:
    from agent.errors import PlaybookError
    from agent.playbook import parse_playbook

    with pytest.raises(PlaybookError) as caught:
        parse_playbook("name: x\nsteps:\n  - null\n", path="null.yaml")
    assert caught.value.line == 3
