"""Pre-dial checks: which questions a run could ask, decided with the engine's own gates."""

from __future__ import annotations

from typing import Any

import pytest

from agent.playbook import RunOptions, parse_playbook
from agent.playbook.preflight import preflight
from agent.playbook.source import PlaybookInvalidError

from .fakes import ScriptedAsker

QUESTIONS = """\
name: triage
required_vars: [site_code]
vars: {site_code: null, depth: 1}
steps:
  - name: Scope
    ask: {key: scope, type: choice, choices: [all, some], question: "All or some?"}
  - name: Which
    ask: {key: which, type: text, question: "Which?"}
    when: answers.scope != "all"
  - name: Power cut
    ask: {key: power_cut, type: yes_no, question: "Power cut?", default: false}
  - name: Deep question
    ask: {key: deep, type: text, question: "Deep?"}
    tags: [never, deep]
  - name: After a read
    ask: {key: later, type: text, question: "Later?"}
    when: trunks | length > 0
  - name: Toshiba only
    ask: {key: tosh, type: text, question: "Toshiba?"}
    vendors: [toshiba]
  - name: CO lines
    get: trunks
    register: trunks
"""


def problems(answers: dict[str, Any], *, extra: dict[str, Any] | None = None,
             asker: Any = None, vendor: str = "panasonic", **options: Any) -> list[str]:
    playbook = parse_playbook(QUESTIONS, path="triage.yaml")
    run = RunOptions(answers=answers, asker=asker, **options)
    try:
        preflight(playbook, run, {"site_code": "B1"} if extra is None else extra, vendor=vendor)
    except PlaybookInvalidError as err:
        return [problem.message for problem in err.problems]
    return []


def test_an_answer_decides_whether_a_later_question_is_asked() -> None:
    assert problems({"scope": "all", "later": "x"}) == []
    found = problems({"scope": "some", "later": "x"})
    assert found == ["step \"Which\": no answer for 'which' and nobody to ask (input is not a "
                     "terminal): give --answer which=... or --answers FILE"]


def test_a_question_behind_a_pbx_read_counts_as_one_the_run_could_ask() -> None:
    found = problems({"scope": "all"})
    assert len(found) == 1
    assert "'later'" in found[0] and "it may be asked, depending on what the PBX says" in found[0]


def test_tags_and_vendors_gate_questions_as_the_engine_does() -> None:
    # "Deep question" is tagged never: asked only when --tags names it, and then only the
    # steps tagged deep run (so "Scope" is not asked).
    assert problems({"scope": "all", "later": "x"}) == []
    found = problems({}, tags=frozenset({"deep"}))
    assert len(found) == 1 and "'deep'" in found[0]
    found = problems({"scope": "all", "later": "x"}, vendor="toshiba")
    assert len(found) == 1 and "'tosh'" in found[0]


def test_a_default_stands_in_for_nobody_but_a_given_answer_must_still_fit() -> None:
    assert problems({"scope": "all", "later": "x"}) == []  # power_cut: its default
    found = problems({"scope": "all", "later": "x", "power_cut": "maybe"})
    assert len(found) == 1 and found[0].startswith('step "Power cut": --answer power_cut:')


def test_with_a_terminal_only_the_given_answers_are_checked() -> None:
    assert problems({}, asker=ScriptedAsker()) == []
    found = problems({"scope": "every"}, asker=ScriptedAsker())
    assert found == ["step \"Scope\": --answer scope: answer one of all, some, not 'every'"]


def test_a_required_var_must_have_a_value() -> None:
    assert problems({"scope": "all", "later": "x"}, extra={}) == [
        "var 'site_code' is required: give --var site_code=..."]
    assert problems({"scope": "all", "later": "x"}, extra={"site_code": None}) != []


def test_a_bad_default_is_a_load_error() -> None:
    text = QUESTIONS.replace("default: false", "default: perhaps")
    with pytest.raises(PlaybookInvalidError, match="default: answer yes or no"):
        parse_playbook(text, path="triage.yaml")
