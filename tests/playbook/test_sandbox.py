"""Every templated place in a playbook is as closed as ``expect``: nothing reaches the host.

Set values, command strings, loop items and loop expressions, wait conditions, ``since``,
questions and vars all go through the same sandbox; templates may hold ``{{ }}`` only.
"""

from __future__ import annotations

import pytest

from agent.errors import PlaybookError
from agent.playbook import parse_playbook
from agent.result import StepStatus

from .fakes import FakePbx, run_text
from .test_expressions import ESCAPES

#: (step text with EXPR where the escape goes, is it a template ({{ }}) place?)
PLACES = {
    "set value": ('  - name: S\n    set: {setting: extension_name, target: "201", '
                  'value: "{{ EXPR }}"}\n', True),
    "set target": ('  - name: S\n    set: {setting: extension_name, target: "{{ EXPR }}", '
                   'value: x}\n', True),
    "command": ('  - name: C\n    command: {panasonic: "ERR {{ EXPR }}"}\n', True),
    "loop item": ('  - name: L\n    get: cards\n    loop: ["{{ EXPR }}"]\n', True),
    "loop expression": ("  - name: L\n    get: cards\n    loop: 'EXPR'\n", False),
    "wait until": ("  - name: W\n    wait: {get: cards, until: 'EXPR', timeout: 1, "
                   "interval: 0.01}\n", False),
    "since": ("  - name: E\n    get: error_log\n    since: 'EXPR'\n", False),
    "when": ("  - name: W\n    get: cards\n    when: 'EXPR'\n", False),
    "question": ('  - name: Q\n    ask: {key: q, type: text, question: "{{ EXPR }}"}\n', True),
    "step vars": ('  - name: V\n    get: cards\n    vars: {v: "{{ EXPR }}"}\n', True),
}


def pbx() -> FakePbx:
    return FakePbx(getters={"cards": [], "error_log": []},
                   settings={"extension_name:201": "Reception"})


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("escape", ESCAPES)
def test_escapes_fail_the_step_and_reach_nothing(place: str, escape: str) -> None:
    text, template = PLACES[place]
    expression = escape.replace("'", '"') if not template else escape.replace('"', "'")
    if not template:
        expression = expression.replace("'", "''")
    fake = pbx()
    run = run_text(text.replace("EXPR", expression), fake, apply=True)
    (step, *_) = run.steps
    assert step.status is StepStatus.ERROR, (place, escape, step.message)
    assert fake.writes == []
    assert not [call for call in fake.calls if call[0] in ("command", "write")]


@pytest.mark.parametrize("statement", [
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}{{ os }}",
    "{% extends '/etc/hosts' %}",
    "{% for x in [1] %}{{ x }}{% endfor %}",
    "{% set x = 1 %}",
    "{% macro m() %}{% endmacro %}",
])
@pytest.mark.parametrize("place", ["set value", "command", "question", "step vars"])
def test_template_statements_are_refused_at_load(statement: str, place: str) -> None:
    text = PLACES[place][0].replace("{{ EXPR }}", statement)
    with pytest.raises(PlaybookError, match=r"only \{\{ expressions \}\} are allowed"):
        parse_playbook("name: x\nsteps:\n" + text)


def test_a_template_cannot_build_an_endless_line() -> None:
    fake = pbx()
    text = '  - name: C\n    command: {panasonic: "{{ \'x\' * 100000 }}"}\n'
    run = run_text(text, fake)
    assert run.steps[0].status is StepStatus.ERROR
    assert "at most 1024" in run.steps[0].message
    assert fake.calls == []


def test_a_null_value_is_never_sent_as_the_word_none() -> None:
    fake = pbx()
    text = ('  - name: S\n    set: {setting: extension_name, target: "201", '
            'value: "{{ name }}"}\n')
    run = run_text(text, fake, apply=True, extra_vars={"name": None})
    assert run.steps[0].status is StepStatus.ERROR
    assert "'{{ name }}': a {{ }} in the template is null" in run.steps[0].message
    assert fake.calls == []
