"""The record helpers' field names checked against what the getter really returns.

``all_match(result, stat="in_service")`` is a typo of ``state``; at run time it is an
expression error (the run is "not diagnosed"), but it is the desk's mistake, so
``playbook validate`` and every run find it first, before any line is dialled. The record
types are the driver contract's own (``drivers/model.py`` via the getters' return types):
a field added there is known here with no second list to keep in step.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from functools import cache

from jinja2 import TemplateSyntaxError, nodes

from agent.playbook.expressions import environment
from agent.playbook.model import Playbook, Step
from agent.playbook.source import Problem
from drivers.base import GETTERS, Driver

#: The helpers whose keyword arguments name record fields.
RECORD_HELPERS = frozenset({"count", "all_match", "any_match", "none_match"})


@cache
def record_fields(getter: str) -> frozenset[str] | None:
    """The field names of one record the getter returns; None when it returns no records
    (a single object such as ``system_info`` is not matched by these helpers)."""
    if getter not in GETTERS:
        return None
    hints = typing.get_type_hints(getattr(Driver, getter))
    returned = hints.get("return")
    if typing.get_origin(returned) is not list:
        return None
    (record,) = typing.get_args(returned)
    if not dataclasses.is_dataclass(record):
        return None
    return frozenset(field.name for field in dataclasses.fields(record))


def field_problems(playbook: Playbook) -> list[Problem]:
    """Every ``field=`` of a record helper that the record type does not have, located."""
    problems: list[Problem] = []
    registered: dict[str, str] = {}  # register name -> getter, in step order
    for step in playbook.walk():
        names = dict(registered)
        if step.getter is not None and step.action == "get":
            names["result"] = step.getter
        for expectation in step.expect:
            where = expectation.where or step.where
            problems.extend(_check(expectation.expression.source, names, step, where))
        for expression in (step.when, step.until):
            if expression is not None:
                problems.extend(_check(expression.source, names if expression is step.until
                                       else registered, step, step.where))
        if step.register and step.getter is not None and step.action == "get":
            registered[step.register] = step.getter
    return problems


def _check(source: str, names: dict[str, str], step: Step,
           where: typing.Any) -> Iterator[Problem]:
    for helper, argument, keys in _helper_calls(source):
        getter = names.get(argument)
        fields = record_fields(getter) if getter is not None else None
        if fields is None:
            continue
        for key in keys:
            if key not in fields:
                listed = ", ".join(sorted(fields - {"raw"}))
                message = (f'{helper}(): {getter} records have no field "{key}" in step '
                           f'"{step.name}" (fields: {listed})')
                line, column = (where.line, where.column) if where is not None else (1, 1)
                yield Problem(message, line, column,
                              path=where.path if where is not None else None)


def _helper_calls(source: str) -> Iterator[tuple[str, str, list[str]]]:
    """(helper, the name of its first argument, its keyword names) for each call found."""
    try:
        tree = environment().parse(f"{{{{ {source} }}}}")
    except TemplateSyntaxError:  # the loader reports syntax errors itself
        return
    for call in tree.find_all(nodes.Call):
        if not isinstance(call.node, nodes.Name) or call.node.name not in RECORD_HELPERS:
            continue
        if not call.args or not isinstance(call.args[0], nodes.Name):
            continue
        yield call.node.name, call.args[0].name, [kw.key for kw in call.kwargs]
