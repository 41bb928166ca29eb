"""Step kinds are modules in ``agent/playbook/steps``: dropping one in adds an action.

The plug-in below is written to a folder added to the package's ``__path__`` at test
time — real discovery, no other file edited — and must appear in the published schema,
validate in a playbook (its own keys and the misplaced common keys checked) and run.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from agent.playbook import (
    PlaybookInvalidError,
    Step,
    diagnostic_actions,
    parse_playbook,
    schema,
    step_kinds,
    steps,
)
from agent.playbook.common import PROPERTIES
from agent.result import StepStatus

from .fakes import FakePbx, run_text, statuses

PLUGIN = textwrap.dedent('''
    """``note``: put a line in the run record (a plug-in kind for the discovery test)."""

    from __future__ import annotations

    from collections.abc import Mapping
    from dataclasses import dataclass
    from typing import Any, ClassVar

    from agent.playbook.compiling import StepSite
    from agent.playbook.expressions import Template
    from agent.playbook.kinds import StepKind
    from agent.playbook.model import Step
    from agent.playbook.runtime import Outcome, StepRun
    from agent.result import StepStatus


    @dataclass(frozen=True, slots=True, kw_only=True)
    class NoteStep(Step):
        action: ClassVar[str] = "note"

        text: Template


    def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> NoteStep | None:
        text = site.template(raw["note"], "note")
        return NoteStep(text=text, **common) if text is not None else None


    def run(step: NoteStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
        text = step.text.render(context)
        ctx.run.facts.setdefault("notes", []).append(text)
        return Outcome(StepStatus.OK, f"noted {text!r}", text)


    KIND = StepKind(name="note", model=NoteStep, build=build, run=run, diagnostic=False,
                    schema={"properties": {"note": {"$ref": "#/$defs/template"}}},
                    not_with=frozenset({"retries", "delay", "until"}))
''')


@pytest.fixture
def note_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "note.py").write_text(PLUGIN)
    monkeypatch.setattr(steps, "__path__", [*steps.__path__, str(tmp_path)])
    yield
    sys.modules.pop(f"{steps.__name__}.note", None)


def test_a_dropped_in_kind_is_discovered_published_validated_and_run(note_kind: None) -> None:
    assert "note" in [kind.name for kind in step_kinds()]
    published = schema()
    Draft202012Validator.check_schema(published)
    step = published["$defs"]["step"]
    assert {"required": ["note"]} in step["oneOf"]
    assert step["properties"]["note"] == {"$ref": "#/$defs/template"}
    assert "note" not in diagnostic_actions()

    pbx = FakePbx(getters={"alarms": []})
    run = run_text("name: Notes\nvars: {who: desk}\nsteps:\n"
                   "  - name: Say\n    note: 'called by {{ who }}'\n    register: said\n"
                   "  - name: Check\n    get: alarms\n    expect: ['said == \"called by desk\"']\n",
                   pbx)
    assert statuses(run) == [("Say", "ok"), ("Check", "ok")]
    assert run.facts["notes"] == ["called by desk"]
    assert run.steps[0].action == "note" and run.steps[0].status is StepStatus.OK
    assert pbx.calls == [("get", "alarms", {})]  # the note never touched the PBX

    with pytest.raises(PlaybookInvalidError) as caught:
        parse_playbook("name: N\nsteps:\n  - name: Say\n    note: hi\n    retries: 2\n"
                       "    until: 'true'\n", path="n.yaml")
    assert any('"retries" cannot be used with "note"' in p.message
               for p in caught.value.problems)


def test_without_the_module_the_action_is_unknown() -> None:
    assert "note" not in [kind.name for kind in step_kinds()]
    with pytest.raises(PlaybookInvalidError) as caught:
        parse_playbook("name: N\nsteps:\n  - name: Say\n    note: hi\n")
    assert any(p.message.startswith('unknown key "note"') for p in caught.value.problems)


def test_the_common_keys_are_the_step_model_fields() -> None:
    """The common keys' schema (common.py) and the ``Step`` model name the same keys."""
    assert set(PROPERTIES) == {field.name for field in fields(Step)} - {"where"}
    assert set(PROPERTIES) <= set(schema()["$defs"]["step"]["properties"])


def test_each_kind_owns_its_action() -> None:
    kinds = step_kinds()
    assert [kind.name for kind in kinds] == ["get", "read", "command", "set", "ask", "wait",
                                             "backup", "include"]
    assert all(kind.model.action == kind.name for kind in kinds)
    assert diagnostic_actions() == frozenset({"get", "read", "wait", "command"})
