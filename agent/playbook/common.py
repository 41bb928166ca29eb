"""The keys every step may have, described once: their schema here, their model in
:class:`~agent.playbook.model.Step` (whose fields are these keys, plus ``where``), and how
they are built from YAML here.

A key absent from the YAML takes the ``Step`` field's default; only keys that need
compiling or converting have a builder below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agent.playbook.compiling import StepSite
from agent.playbook.expressions import RESERVED_NAMES
from agent.playbook.model import Expectation, OnFailure, Priority

#: Schema of the common step keys (the step's ``properties`` before any kind's own).
PROPERTIES: dict[str, Any] = {
    "name": {"$ref": "#/$defs/text", "description": "Unique within the playbook."},
    "vars": {"$ref": "#/$defs/vars"},
    "expect": {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/$defs/expression"},
        "description": "Jinja2 expressions over `result`; all must be truthy.",
    },
    "register": {"$ref": "#/$defs/identifier"},
    "on_failure": {"$ref": "#/$defs/on_failure"},
    "tags": {"type": "array", "uniqueItems": True, "items": {"$ref": "#/$defs/text"}},
    "when": {
        "type": ["string", "boolean"],
        "minLength": 1,
        "description": "Run the step only when true (an expression, or true / false).",
    },
    "loop": {
        "type": ["array", "string"],
        "minLength": 1,
        "description": "Run the step once per item: a list, or an expression giving one.",
    },
    "loop_var": {"$ref": "#/$defs/identifier", "description": "Name of the item (default item)."},
    "retries": {"type": "integer", "minimum": 1, "maximum": 100,
                "description": "Attempts after the first, until `until` holds."},
    "delay": {"type": "number", "minimum": 0, "maximum": 3600,
              "description": "Seconds between attempts (default 1)."},
    "until": {"$ref": "#/$defs/expression", "description": "With retries: the attempt succeeded."},
    "vendors": {"$ref": "#/$defs/names", "description": "Run only on these vendors."},
    "models": {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"$ref": "#/$defs/text"},
        "description": "Run only on these models (shell-style patterns: KX-TDE*).",
    },
    "continue_on_failure": {"type": "boolean",
                            "description": "false: a failure stops the run (default true)."},
}

#: Common keys that only make sense next to another one (``dependentRequired``).
NEEDS: dict[str, list[str]] = {
    "retries": ["until"],
    "until": ["retries"],
    "delay": ["retries"],
    "loop_var": ["loop"],
}

#: The schema's ``on_failure`` definition.
ON_FAILURE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "priority": {"enum": [priority.value for priority in Priority]},
        "summary": {"$ref": "#/$defs/text"},
    },
}

_FAILED = object()  # a builder's "compiling failed, the problem is recorded"


def common_fields(raw: Mapping[str, Any], site: StepSite) -> dict[str, Any] | None:
    """The ``Step`` keyword arguments of one step's common keys, or None when one of them
    failed to compile (its problem is recorded)."""
    fields: dict[str, Any] = {"where": site.location()}
    failed = False
    for key in PROPERTIES:
        if key not in raw:
            continue
        build = _BUILDERS.get(key)
        value = build(raw[key], site.child(key)) if build else raw[key]
        failed = failed or value is _FAILED
        fields[key] = value
    _check_loop_var(raw, site)
    return None if failed else fields


def _expect(value: list[str], site: StepSite) -> Any:
    """Every ``expect`` entry compiled now, so a typo is caught before the line is dialled."""
    expectations = []
    for number, text in enumerate(value):
        expression = site.expression(text, number)
        expectations.append(Expectation(expression, site.location(number))
                            if expression is not None else None)
    return _FAILED if None in expectations else tuple(expectations)


def _condition(value: str | bool, site: StepSite) -> Any:
    text = str(value).lower() if isinstance(value, bool) else value  # when: false
    expression = site.expression(text)
    return _FAILED if expression is None else expression


def _loop(value: list[Any] | str, site: StepSite) -> Any:
    """A loop string is an expression giving a list; a list's strings may be templates."""
    if isinstance(value, str):
        expression = site.expression(value)
        return _FAILED if expression is None else expression
    items = site.data(value)
    return _FAILED if items is None else tuple(items)


def _vars(value: Mapping[str, Any] | None, site: StepSite) -> Any:
    rendered = site.data(value or {})
    return _FAILED if rendered is None else rendered


def _on_failure(value: Mapping[str, Any], site: StepSite) -> OnFailure | None:
    if not value:
        return None
    priority = value.get("priority")
    return OnFailure(priority=Priority(priority) if priority else None,
                     summary=value.get("summary"))


def _check_loop_var(raw: Mapping[str, Any], site: StepSite) -> None:
    name = raw.get("loop_var")
    if name in RESERVED_NAMES:
        site.problem(f'loop_var "{name}" {site.within()} would hide the built-in '
                     f'"{name}"; pick another name', "loop_var")


_BUILDERS: dict[str, Callable[[Any, StepSite], Any]] = {
    "expect": _expect,
    "when": _condition,
    "until": _condition,
    "loop": _loop,
    "vars": _vars,
    "on_failure": _on_failure,
    "tags": lambda value, site: tuple(value),
    "vendors": lambda value, site: tuple(value),
    "models": lambda value, site: tuple(value),
    "delay": lambda value, site: float(value),
}
