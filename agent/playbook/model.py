"""The validated, immutable form of a playbook: what the engine runs.

The loader builds these only after the file has passed the schema and the semantic
checks, so the engine never re-validates. Each step kind is its own class (``GetStep``
today; command/set/ask/wait later) sharing the common keys of :class:`Step`, and every
node remembers where it came from so run-time messages can point back at the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from agent.playbook.expressions import Expression
from agent.result import FailureHint


class Priority(StrEnum):
    """Fault priority a failed step means (see SLA.md)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """1-based position of a node in the playbook file."""

    path: str | None
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path or '<playbook>'}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class OnFailure:
    """What a failure of this step means, for ticket classification."""

    priority: Priority | None = None
    summary: str | None = None

    def to_hint(self) -> FailureHint:
        """A fresh (mutable) copy for the RunResult, which must not share our objects."""
        return FailureHint(priority=self.priority.value if self.priority else None,
                           summary=self.summary)


@dataclass(frozen=True, slots=True)
class Expectation:
    """One ``expect`` entry: compiled once, source kept verbatim for reports."""

    expression: Expression
    where: SourceLocation | None = None

    @property
    def source(self) -> str:
        return self.expression.source


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """Keys every step kind shares; subclasses add exactly one action."""

    name: str
    expect: tuple[Expectation, ...] = ()
    register: str | None = None
    on_failure: OnFailure | None = None
    tags: tuple[str, ...] = ()
    where: SourceLocation | None = None

    #: The YAML key that selects this step kind (also the schema's action key).
    action: ClassVar[str] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetStep(Step):
    """Read one driver getter and assert on its answer."""

    action: ClassVar[str] = "get"

    get: str


@dataclass(frozen=True, slots=True)
class Playbook:
    """A whole playbook; ``vars`` are plain YAML data, ``steps`` run in order."""

    name: str
    steps: tuple[Step, ...]
    description: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def step_names(self) -> list[str]:
        return [step.name for step in self.steps]
