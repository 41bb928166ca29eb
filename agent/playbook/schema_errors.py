"""jsonschema's errors reworded for a playbook author, each at the YAML node it is about.

jsonschema names a keyword and a data path; an author needs 'unknown key "expct" in step 2
("Cards"); did you mean "expect"?' at the key's line. One function per keyword.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from agent.playbook.expressions import kind_of
from agent.playbook.source import Document, Place, Problem, suggest

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def schema_problems(doc: Document, validator: Draft202012Validator) -> list[Problem]:
    """Every schema error of the document, reworded and located."""
    problems: list[Problem] = []
    for raw in validator.iter_errors(doc.data):
        error = _SchemaError.of(raw, doc)
        handler = _bad_name if error.about_key else _REWORDERS.get(error.keyword, _generic)
        problems.extend(handler(error))
    return problems


@dataclass(frozen=True, slots=True)
class _SchemaError:
    """A jsonschema error with its unset-able fields normalised, at its place in the file."""

    keyword: str
    expected: Any  # the keyword's value in the schema
    instance: Any
    schema: Mapping[str, Any]
    place: Place
    about_key: bool  # a propertyNames error: the instance is a key of the mapping here

    @classmethod
    def of(cls, error: ValidationError, doc: Document) -> _SchemaError:
        subschema = error.schema if isinstance(error.schema, Mapping) else {}
        return cls(keyword=str(error.validator), expected=error.validator_value,
                   instance=error.instance, schema=subschema,
                   place=doc.at(*error.absolute_path),
                   about_key="propertyNames" in error.absolute_schema_path)


def _unknown_keys(error: _SchemaError) -> list[Problem]:
    allowed = sorted(error.schema.get("properties", {}))
    place = error.place
    problems = []
    for key in error.instance:
        if key in allowed:
            continue
        suggestion = suggest(str(key), allowed)
        hint = (f'did you mean "{suggestion}"?' if suggestion
                else f"allowed keys: {', '.join(allowed)}")
        message = f'unknown key "{key}" {place.within()}; {hint}'
        problems.append(place.problem(message, place.key_node(key), suggests=suggestion))
    return problems


_MISSING_HINTS = {
    "vendors": "; a command string is one vendor's dialect: add vendors: [...] or write "
               "command: {panasonic: ..., toshiba: ...}",
    "choices": '; a "choice" question lists its choices',
}


def _missing_keys(error: _SchemaError) -> list[Problem]:
    place = error.place
    return [
        place.problem(f'missing required key "{key}" {place.within()}'
                      f'{_MISSING_HINTS.get(key, "")}', place.node(), missing=frozenset({key}))
        for key in error.expected
        if key not in error.instance
    ]


_NEEDS_HINTS = {
    "retries": ": retries repeat the step until a condition holds",
    "until": ": say how many retries (attempts after the first)",
}


def _needs(error: _SchemaError) -> list[Problem]:
    """``dependentRequired``: a key that only makes sense next to another one."""
    place = error.place
    problems = []
    for key, needed in error.expected.items():
        absent = [name for name in needed if name not in error.instance]
        if key not in error.instance or not absent:
            continue
        wanted = " and ".join(f'"{name}"' for name in absent)
        message = f'"{key}" {place.within()} needs {wanted} too{_NEEDS_HINTS.get(key, "")}'
        problems.append(place.problem(message, place.key_node(key)))
    return problems


def _not_const(error: _SchemaError) -> list[Problem]:
    wanted = json.dumps(error.expected)
    return [error.place.problem(f"{error.place.describe()} must be {wanted}")]


def _out_of_range(error: _SchemaError) -> list[Problem]:
    words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
             "exclusiveMaximum": "less than"}[error.keyword]
    message = (f"{error.place.describe()} must be {words} {error.expected}, "
               f"got {json.dumps(error.instance, default=str)}")
    return [error.place.problem(message)]


def _actions(error: _SchemaError) -> list[Problem]:
    """A step needs exactly one action key (the schema's ``oneOf`` of ``required``)."""
    place = error.place
    actions = [key for option in error.expected for key in option.get("required", [])]
    instance = error.instance if isinstance(error.instance, dict) else {}
    present = [key for key in actions if key in instance]
    if not present:
        choices = " or ".join(f'"{action}: ..."' for action in actions)
        message = f"{place.describe()} has no action: add {choices}"
        return [place.problem(message, place.node(), missing=frozenset(actions))]
    message = (f"{place.describe()} has more than one action ({', '.join(present)}): "
               "split it into separate steps")
    return [place.problem(message, place.node())]


def _wrong_type(error: _SchemaError) -> list[Problem]:
    names = [error.expected] if isinstance(error.expected, str) else error.expected
    wanted = " or ".join(_TYPE_WORDS.get(name, name) for name in names)
    node = error.place.value_node()
    message = f"{error.place.describe()} must be {wanted}, got {kind_of(error.instance)}"
    if error.expected == "string" and isinstance(node, yaml.ScalarNode) and node.value:
        message += f'; quote it ("{node.value}") if you meant text'
    if error.expected == "array" and isinstance(node, yaml.ScalarNode):
        message += '; write it as a list ("- ..." on the next lines, or [...])'
    return [error.place.problem(message, node)]


def _not_allowed(error: _SchemaError) -> list[Problem]:
    place = error.place
    allowed = [str(choice) for choice in error.expected]
    value = error.instance
    suggestion = suggest(str(value), allowed)
    hint = f'; did you mean "{suggestion}"?' if suggestion else ""
    if place.at and place.at[-1] == "get":
        message = (f'unknown getter "{value}" {place.parent.within()}{hint} '
                   f"(valid getters: {', '.join(allowed)})")
    else:
        message = (f"{place.describe()} must be one of {', '.join(allowed)}, "
                   f"got {json.dumps(value, default=str)}{hint}")
    return [place.problem(message)]


def _empty(error: _SchemaError) -> list[Problem]:
    return [error.place.problem(f"{error.place.describe()} must not be empty")]


def _bad_name(error: _SchemaError) -> list[Problem]:
    """Names bound for expressions (vars keys, register) must be Jinja identifiers."""
    place = error.place
    name = json.dumps(error.instance, default=str)
    if error.about_key:
        node = place.key_node(error.instance)
        what = f"name {name} {place.within()}"
    else:
        node = place.value_node()
        what = f'"{place.at[-1]}" value {name} {place.parent.within()}'
    message = f"{what} is not a valid name: use letters, digits and _, not starting with a digit"
    return [place.problem(message, node)]


def _duplicates(error: _SchemaError) -> list[Problem]:
    return [error.place.problem(f"{error.place.describe()} lists an entry twice")]


def _generic(error: _SchemaError) -> list[Problem]:
    """Keywords without a tailored message still get a position (jsonschema's own words)."""
    message = f"{error.place.describe()}: failed {error.keyword} {error.expected!r}"
    return [error.place.problem(message)]


_REWORDERS: dict[str, Callable[[_SchemaError], list[Problem]]] = {
    "additionalProperties": _unknown_keys,
    "required": _missing_keys,
    "oneOf": _actions,
    "type": _wrong_type,
    "enum": _not_allowed,
    "minItems": _empty,
    "minLength": _empty,
    "minProperties": _empty,
    "pattern": _bad_name,
    "uniqueItems": _duplicates,
    "dependentRequired": _needs,
    "const": _not_const,
    "minimum": _out_of_range,
    "maximum": _out_of_range,
    "exclusiveMinimum": _out_of_range,
    "exclusiveMaximum": _out_of_range,
}
