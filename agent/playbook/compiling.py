"""What a step kind's loader works with: its place in the file, and compiling text there.

Expressions and templates are compiled at load time, so a typo is reported at its line
before any line is dialled. Problems are collected, not raised: one pass reports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml

from agent.playbook.expressions import (
    Expression,
    ExpressionSyntaxError,
    Template,
    compile_expression,
    compile_template,
)
from agent.playbook.includes import Includes
from agent.playbook.model import SourceLocation
from agent.playbook.source import PathPart, Place, Problem, position_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StepSite:
    """A place in the file being built, the problems found so far, and the includes."""

    place: Place
    problems: list[Problem]
    includes: Includes

    def child(self, *keys: PathPart) -> StepSite:
        return StepSite(self.place.child(*keys), self.problems, self.includes)

    @property
    def path(self) -> str | None:
        return self.place.doc.path

    def location(self, *keys: PathPart) -> SourceLocation:
        return self.place.child(*keys).location()

    def describe(self, *keys: PathPart) -> str:
        return self.place.child(*keys).describe()

    def within(self, *keys: PathPart) -> str:
        return self.place.child(*keys).within()

    def problem(self, message: str, *keys: PathPart, key: bool = False) -> None:
        """Record a problem at a value (or, with ``key``, at the key naming it)."""
        place = self.place.child(*keys)
        self.problems.append(place.key_problem(message) if key else place.problem(message))

    def expression(self, text: str, *keys: PathPart) -> Expression | None:
        return self._compiled(text, keys, compile_expression, "expression")

    def template(self, text: str, *keys: PathPart) -> Template | None:
        return self._compiled(text, keys, compile_template, "template")

    def data(self, value: Any, *keys: PathPart) -> Any:
        """Plain YAML data, every string holding ``{{`` compiled as a template (None if bad)."""
        failed = False

        def walk(item: Any, where: tuple[PathPart, ...]) -> Any:
            nonlocal failed
            if isinstance(item, str) and ("{{" in item or "{%" in item):
                template = self.template(item, *where)
                failed = failed or template is None
                return template
            if isinstance(item, Mapping):
                return {key: walk(child, (*where, key)) for key, child in item.items()}
            if isinstance(item, list):
                return [walk(child, (*where, number)) for number, child in enumerate(item)]
            return item

        result = walk(value, keys)
        return None if failed else result

    def _compiled(self, text: str, keys: tuple[PathPart, ...],
                  compile_: Callable[[str], T], what: str) -> T | None:
        try:
            return compile_(text)
        except ExpressionSyntaxError as exc:
            place = self.place.child(*keys)
            line, column = _expression_position(place.node(), exc.lineno, place.doc.lines)
            self.problems.append(Problem(f"invalid {what} in {place.describe()}: {exc}", line,
                                         column, place.at))
            return None


def _expression_position(node: yaml.Node, lineno: int, lines: tuple[str, ...]
                         ) -> tuple[int, int]:
    """Line of a syntax error; inside a literal block (``|``) lines map one to one."""
    line, column = position_of(node)
    if isinstance(node, yaml.ScalarNode) and node.style == "|":
        line += lineno
        text = lines[line - 1] if line - 1 < len(lines) else ""
        column = len(text) - len(text.lstrip(" ")) + 1
    return line, column
