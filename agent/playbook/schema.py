"""The published playbook JSON Schema, assembled from the common keys and each step kind.

Nothing is written twice: the common step keys come from :mod:`agent.playbook.common`,
each action from its kind's fragment, and the getter and setting names from the driver
contract. ``pbxdiag playbook schema`` prints what :func:`schema` returns.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from agent.playbook import common
from agent.playbook.kinds import StepKind, step_kinds
from drivers.base import GETTERS, SETTINGS

_DESCRIPTION = (
    "A named list of steps run against one PBX. Unknown keys are errors everywhere. "
    "Expressions (expect, when, until, a loop string, since, wait.until) are bare Jinja "
    "expressions; text values (command, set.target, set.value, read.target, ask.question, "
    "string vars) are templates with {{ }} parts only.")

#: Definitions any kind may use (a kind adds its own under ``$defs`` in its fragment).
_SHARED_DEFS: dict[str, Any] = {
    "text": {"type": "string", "minLength": 1},
    "identifier": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    "getter": {"enum": list(GETTERS)},
    "setting": {"enum": list(SETTINGS)},
    "expression": {"type": "string", "minLength": 1},
    "template": {"type": "string", "minLength": 1},
    "vars": {
        "type": "object",
        "description": "Values the expressions can read by name; string values may hold {{ }}.",
        "propertyNames": {"$ref": "#/$defs/identifier"},
    },
    "names": {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"$ref": "#/$defs/identifier"},
    },
    "on_failure": common.ON_FAILURE,
}


def schema() -> dict[str, Any]:
    """The published playbook JSON Schema (draft 2020-12), a fresh copy each call."""
    return copy.deepcopy(_assembled(step_kinds()))


def validator() -> Draft202012Validator:
    """A validator for the schema of the kinds installed now."""
    return _validator(step_kinds())


@lru_cache(maxsize=8)
def _validator(kinds: tuple[StepKind[Any], ...]) -> Draft202012Validator:
    return Draft202012Validator(_assembled(kinds))


@lru_cache(maxsize=8)
def _assembled(kinds: tuple[StepKind[Any], ...]) -> dict[str, Any]:
    defs: dict[str, Any] = {**copy.deepcopy(_SHARED_DEFS), "step": _step(kinds)}
    for kind in kinds:
        for name, definition in kind.schema.get("$defs", {}).items():
            if name in defs:
                raise ValueError(f'step kind "{kind.name}" redefines $defs/{name}')
            defs[name] = copy.deepcopy(definition)
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:pbxdiag:schema:playbook:2",
        "title": "pbxdiag playbook",
        "description": _DESCRIPTION,
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "steps"],
        "properties": {
            "name": {"$ref": "#/$defs/text", "description": "Shown in reports and tickets."},
            "description": {"type": "string"},
            "vars": {"$ref": "#/$defs/vars"},
            "required_vars": {
                "$ref": "#/$defs/names",
                "description": "Vars a run must be given (--var NAME=...) with a value other "
                               "than null; checked before any line is dialled.",
            },
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        },
        "$defs": defs,
    }
    # A round trip through JSON: what is published is plain JSON, nothing shared.
    result: dict[str, Any] = json.loads(json.dumps(document))
    return result


def _step(kinds: Sequence[StepKind[Any]]) -> dict[str, Any]:
    """The step object: common keys, plus exactly one action key, plus the kinds' rules."""
    properties = dict(common.PROPERTIES)
    needs = dict(common.NEEDS)
    rules: list[Any] = []
    for kind in kinds:
        own = kind.schema.get("properties", {})
        clash = set(own) & set(properties)
        if clash or next(iter(own), None) != kind.name:
            raise ValueError(f'step kind "{kind.name}": its schema must start with the '
                             f"action key and add only keys of its own (clash: {clash})")
        properties.update(own)
        needs.update(kind.schema.get("dependentRequired", {}))
        rules.extend(kind.schema.get("allOf", ()))
    step: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "description": "Common keys, plus exactly one action key.",
        "properties": properties,
        "oneOf": [{"required": [kind.name]} for kind in kinds],
        "dependentRequired": needs,
    }
    if rules:
        step["allOf"] = rules
    return step
