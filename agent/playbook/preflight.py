"""Everything about a run that can be checked without the PBX, checked before dialling.

The desk's own mistakes — a tag or answer key that does not exist, a required var left
out, an answer outside its choices, a question nobody can answer because no one is at a
terminal — are bad input (exit 2): found here, before a customer's line is held, so they
never reach the register as if the PBX had said something. Every problem is reported at
once, each located at the playbook step it concerns.

Which questions a run could ask is decided with the engine's own gates (``gates``): tags,
the vendor, and each ``when`` evaluated from the answers and vars known now. A ``when``
that needs the PBX (a registered result, the model) cannot be decided here, so its
question counts as one the run could ask.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from agent.errors import PlaybookError
from agent.playbook.answers import normalise_answer
from agent.playbook.expressions import ExpressionError
from agent.playbook.gates import check_options, tag_reason, vendor_reason
from agent.playbook.model import Playbook, Step
from agent.playbook.runtime import RunOptions, pbx_now
from agent.playbook.source import PlaybookInvalidError
from agent.playbook.steps.ask import AskStep


def preflight(playbook: Playbook, options: RunOptions, extra_vars: Mapping[str, Any],
              *, vendor: str) -> None:
    """Raise one :class:`PlaybookInvalidError` listing every problem; None when all is well."""
    check_options(playbook, options)
    problems = [*_missing_vars(playbook, extra_vars),
                *_answer_problems(playbook, options, extra_vars, vendor)]
    if problems:
        raise PlaybookInvalidError(problems)


def _missing_vars(playbook: Playbook, extra_vars: Mapping[str, Any]) -> Iterator[PlaybookError]:
    for name in playbook.required_vars:
        value = extra_vars[name] if name in extra_vars else playbook.vars.get(name)
        if value is None:
            yield PlaybookError(f"var {name!r} is required: give --var {name}=...",
                                path=playbook.path)


class _Undecided(Exception):
    """A ``when`` that cannot be evaluated before the PBX is read."""


def _answer_problems(playbook: Playbook, options: RunOptions, extra_vars: Mapping[str, Any],
                     vendor: str) -> list[PlaybookError]:
    walk = _QuestionWalk(options, {**playbook.vars, **extra_vars}, vendor)
    walk.steps(playbook.steps, ())
    return walk.problems


class _QuestionWalk:
    """The questions in run order, with the answers known so far feeding later ``when``s."""

    def __init__(self, options: RunOptions, variables: dict[str, Any], vendor: str) -> None:
        self.options = options
        self.variables = variables
        self.vendor = vendor
        self.answers: dict[str, Any] = {}
        self.problems: list[PlaybookError] = []

    def steps(self, steps: Sequence[Step], tags: tuple[str, ...]) -> None:
        for step in steps:
            self.step(step, tags)

    def step(self, step: Step, tags: tuple[str, ...]) -> None:
        own_tags = (*tags, *step.tags)
        if vendor_reason(step, self.vendor) is not None:
            return
        if step.included is None and tag_reason(own_tags, self.options) is not None:
            return
        runs = self._may_run(step)
        if runs is False:
            return
        if step.included is not None:
            self.variables = {**step.included.vars, **self.variables}
            self.steps(step.included.steps, own_tags)
            return
        if isinstance(step, AskStep):
            self.question(step, certain=runs is True and not step.models)

    def _may_run(self, step: Step) -> bool | None:
        """True: it runs; False: its ``when`` is false now; None: only the PBX can tell."""
        if step.when is None:
            return True
        context = {**self.variables, "answers": dict(self.answers),
                   "now": pbx_now(self.options.timezone).isoformat(timespec="seconds"),
                   "in_working_hours": self.options.in_working_hours,
                   "check_mode": not self.options.apply}
        try:
            return step.when.is_true(context)
        except ExpressionError:
            return None

    def question(self, step: AskStep, *, certain: bool) -> None:
        """A given answer must fit; a missing one needs a terminal or the step's default."""
        if step.key in self.options.answers:
            value, problem = normalise_answer(step, self.options.answers[step.key])
            if problem:
                self._problem(step, f"--answer {step.key}: {problem}")
                return
            self.answers[step.key] = value
            return
        if self.options.asker is not None:
            return  # asked at the terminal; later ``when``s on it stay undecided
        if step.default is not None:
            self.answers[step.key] = normalise_answer(step, step.default)[0]
            return
        could = "" if certain else " (it may be asked, depending on what the PBX says)"
        self._problem(step, f"no answer for {step.key!r} and nobody to ask (input is not a "
                      f"terminal){could}: give --answer {step.key}=... or --answers FILE")

    def _problem(self, step: Step, message: str) -> None:
        where = step.where
        self.problems.append(PlaybookError(
            f'step "{step.name}": {message}', path=where.path if where else None,
            line=where.line if where else None, column=where.column if where else None))
