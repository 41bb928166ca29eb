"""Semantic checks the schema cannot express, over the whole playbook.

Step names unique, names that would hide a built-in, one question per answer key, and
common keys that do not fit a step's action. Each returns problems; nothing raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.playbook.compiling import StepSite
from agent.playbook.expressions import RESERVED_NAMES
from agent.playbook.kinds import StepKind
from agent.playbook.model import Playbook
from agent.playbook.source import Document, Problem, position_of


def misplaced_keys(kind: StepKind[Any], raw: Mapping[str, Any], site: StepSite) -> None:
    """Keys the schema allows on any step but this action cannot use."""
    for key in sorted(kind.not_with.intersection(raw)):
        message = (f'"{key}" cannot be used with "{kind.name}" in {site.describe()}'
                   + (f": {kind.why_not}" if kind.why_not else ""))
        site.problem(message, key, key=True)


def duplicate_step_names(doc: Document) -> list[Problem]:
    first_line: dict[str, int] = {}
    problems = []
    for index, step in enumerate(doc.data["steps"]):
        place = doc.at("steps", index, "name")
        name = step["name"]
        if name in first_line:
            message = f'duplicate step name "{name}" (first used on line {first_line[name]}); ' \
                      "step names must be unique"
            problems.append(place.problem(message))
        else:
            first_line[name] = position_of(place.value_node())[0]
    return problems


def reserved_names(doc: Document) -> list[Problem]:
    """A var or register named like a helper (or ``result``) would silently hide it."""
    problems = []
    top = doc.at("vars")
    for name in doc.data.get("vars") or {}:
        if name in RESERVED_NAMES:
            message = f'var "{name}" would hide the built-in "{name}"; pick another name'
            problems.append(top.problem(message, top.key_node(name)))
    for index, step in enumerate(doc.data["steps"]):
        place = doc.at("steps", index, "vars")
        for name in step.get("vars") or {}:
            if name in RESERVED_NAMES:
                message = (f'var "{name}" {place.parent.within()} would hide the built-in '
                           f'"{name}"; pick another name')
                problems.append(place.problem(message, place.key_node(name)))
        name = step.get("register")
        if name in RESERVED_NAMES:
            place = doc.at("steps", index, "register")
            message = (f'register "{name}" {place.parent.within()} would hide the built-in '
                       f'"{name}"; pick another name')
            problems.append(place.problem(message))
    return problems


def duplicate_ask_keys(playbook: Playbook) -> list[Problem]:
    """One answer per key in a run, included playbooks too: a second ask would overwrite it."""
    first: dict[str, str] = {}
    where: dict[str, str] = {}
    problems = []
    for step in playbook.walk():
        key = step.answer_key
        if key is None:
            continue
        if key not in first:
            first[key], where[key] = step.name, str(step.where)
            continue
        if step.where is None:
            continue
        message = (f'answer key "{key}" is already asked by step "{first[key]}" '
                   f"({where[key]}); each question needs its own key")
        problems.append(Problem(message, step.where.line, step.where.column,
                                path=step.where.path))
    return problems
