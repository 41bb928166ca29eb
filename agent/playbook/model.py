"""The validated, immutable form of a playbook: what the engine runs.

The loader builds these only after the file has passed the schema and the semantic
checks, so the engine never re-validates. :class:`Step` holds the keys every step kind
shares; each kind's own class (its action) lives in its module in
``agent/playbook/steps/``. Every node remembers where it came from so run-time messages
can point back at the file.

Two kinds of text: *expressions* (``expect``, ``when``, ``until``, a ``loop`` string,
``since``) are bare Jinja expressions; *templates* (a command, a setting's target and
value, a question, string ``vars``) are text with ``{{ }}`` parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
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


class AnswerType(StrEnum):
    """How a front-line answer is read and checked."""

    YES_NO = "yes_no"
    CHOICE = "choice"
    TEXT = "text"
    SECRET = "secret"  # noqa: S105 - typed without echo, recorded masked (a new PIN)


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


@dataclass(frozen=True, slots=True)
class OutputPattern:
    """One ``expect_output`` / ``reject_output`` regular expression, compiled at load."""

    source: str
    regex: re.Pattern[str] = field(repr=False, compare=False)

    def found_in(self, output: str) -> bool:
        return self.regex.search(output) is not None


#: A ``loop``: a literal list (strings may be templates) or an expression giving a list.
Loop = tuple[Any, ...] | Expression


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """Keys every step kind shares; subclasses add exactly one action."""

    name: str
    expect: tuple[Expectation, ...] = ()
    register: str | None = None
    on_failure: OnFailure | None = None
    tags: tuple[str, ...] = ()
    where: SourceLocation | None = None
    when: Expression | None = None
    loop: Loop | None = None
    loop_var: str = "item"
    retries: int = 0
    delay: float = 1.0
    until: Expression | None = None
    vendors: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    continue_on_failure: bool = True
    vars: Mapping[str, Any] = field(default_factory=dict)

    #: The YAML key that selects this step kind (also the schema's action key).
    action: ClassVar[str] = ""

    @property
    def changes_pbx(self) -> bool:
        """True when running the step may change the PBX's programming."""
        return False

    @property
    def for_vendors(self) -> tuple[str, ...]:
        """The vendors the step is for (empty: every vendor)."""
        return self.vendors

    @property
    def getter(self) -> str | None:
        """The driver getter the step reads, for the StepResult (None if it reads none)."""
        return None

    @property
    def answer_key(self) -> str | None:
        """The front-line answer the step asks for, if it asks one."""
        return None

    @property
    def included(self) -> Playbook | None:
        """The playbook whose steps run in place of this one (an include), else None."""
        return None


@dataclass(frozen=True, slots=True)
class Playbook:
    """A whole playbook; ``vars`` are plain YAML data, ``steps`` run in order."""

    name: str
    steps: tuple[Step, ...]
    description: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    #: Vars the caller must give a value (not null) before anything is dialled.
    required_vars: tuple[str, ...] = ()

    @property
    def step_names(self) -> list[str]:
        return [step.name for step in self.steps]

    def walk(self) -> Iterator[Step]:
        """Every step, included playbooks' steps in place (after their include step)."""
        for step in self.steps:
            yield step
            if step.included is not None:
                yield from step.included.walk()

    @property
    def has_changes(self) -> bool:
        """Whether a run may program the PBX (so ``--apply`` matters)."""
        return any(step.changes_pbx for step in self.walk())

    @property
    def ask_keys(self) -> frozenset[str]:
        return frozenset(step.answer_key for step in self.walk() if step.answer_key)

    @property
    def tags(self) -> frozenset[str]:
        return frozenset(tag for step in self.walk() for tag in step.tags)
