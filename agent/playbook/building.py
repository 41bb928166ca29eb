"""A schema-valid document → the :class:`Playbook` model, with the semantic checks.

The common keys are built by :mod:`agent.playbook.common`; the action key picks the step
kind, whose own loader builds the rest. Every problem is collected, then all are raised.
"""

from __future__ import annotations

from agent.playbook import checks
from agent.playbook.common import common_fields
from agent.playbook.compiling import StepSite
from agent.playbook.includes import Includes
from agent.playbook.kinds import step_kinds
from agent.playbook.model import Playbook, Step
from agent.playbook.record_fields import field_problems
from agent.playbook.source import Document, Problem, raise_if


def build_playbook(doc: Document, includes: Includes) -> Playbook:
    problems: list[Problem] = []
    built = [_build_step(StepSite(doc.at("steps", index), problems, includes))
             for index in range(len(doc.data["steps"]))]
    problems.extend(checks.duplicate_step_names(doc))
    problems.extend(checks.reserved_names(doc))
    raise_if(problems, doc.path)
    data = doc.data
    playbook = Playbook(name=data["name"], description=data.get("description", ""),
                        vars=dict(data.get("vars") or {}),
                        required_vars=tuple(data.get("required_vars") or ()),
                        steps=tuple(step for step in built if step is not None), path=doc.path)
    raise_if([*checks.duplicate_ask_keys(playbook), *field_problems(playbook)], doc.path)
    return playbook


def _build_step(site: StepSite) -> Step | None:
    """Common keys first; the action key picks the kind (the schema ensured exactly one)."""
    raw = site.place.doc.data["steps"][site.place.at[-1]]
    kind = next(kind for kind in step_kinds() if kind.name in raw)
    checks.misplaced_keys(kind, raw, site)
    common = common_fields(raw, site)
    if common is None:
        return None
    return kind.build(raw, common, site)
