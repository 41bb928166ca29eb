"""Run a validated playbook against a driver and fill in the RunResult.

The engine owns the step loop and nothing else: it never opens a line (the runner hands
it a live driver) and never classifies faults (tickets read the RunResult). Errors are
sorted three ways: a failed check is data (``failed``), a PBX that refuses or garbles one
answer spoils only that step (``error``), and a lost line ends the run (propagates, for
the runner to record) with every finished step already in ``run.steps``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from agent.errors import CommandRejected, ParseError, PlaybookError
from agent.playbook.expressions import RESERVED_NAMES, ExpressionError
from agent.playbook.model import Expectation, GetStep, Playbook, Step
from agent.result import RunResult, RunStatus, StepResult, StepStatus
from drivers.model import to_jsonable

log = structlog.get_logger(__name__)


class GetterSource(Protocol):
    """What the engine needs of a driver today (``drivers.base.Driver`` satisfies it)."""

    def get(self, getter: str) -> Any: ...


@dataclass(slots=True)
class _Outcome:
    status: StepStatus
    message: str
    failed_expectations: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Scope:
    """Names expressions can read: vars, then extra vars, then registered results."""

    variables: dict[str, Any]

    def with_result(self, result: Any) -> dict[str, Any]:
        return {**self.variables, "result": result}


StepHandler = Callable[[Any, GetterSource, _Scope, RunResult], _Outcome]


def run_playbook(playbook: Playbook, driver: GetterSource, run: RunResult, *,
                 extra_vars: Mapping[str, Any] | None = None) -> RunResult:
    """Run every step in order, append a StepResult each, then set ``run.status``.

    A ``ConnectionProblem`` from the driver propagates unchanged; the steps finished
    before it are already recorded and ``run.status`` is left for the runner to set.
    """
    scope = _Scope(_initial_variables(playbook, extra_vars))
    bound = log.bind(playbook=playbook.name, run_id=run.run_id, site=run.site)
    for step in playbook.steps:
        run.steps.append(_run_step(step, driver, scope, run, bound))
    run.status = RunStatus.FAILED if run.failed_steps else RunStatus.PASSED
    return run


def _initial_variables(playbook: Playbook, extra_vars: Mapping[str, Any] | None
                       ) -> dict[str, Any]:
    """Caller-given vars override the playbook's (like ``-e`` on a command line)."""
    extra = dict(extra_vars or {})
    clashes = sorted(RESERVED_NAMES.intersection(extra))
    if clashes:
        raise PlaybookError(f"extra vars clash with built-in names: {', '.join(clashes)}",
                            path=playbook.path)
    return {**playbook.vars, **extra}


def _run_step(step: Step, driver: GetterSource, scope: _Scope, run: RunResult,
              logger: Any) -> StepResult:
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    handler = _HANDLERS[type(step)]
    try:
        outcome = handler(step, driver, scope, run)
    except Exception as exc:  # logged for the timeline, then the runner decides
        logger.warning("step.interrupted", step=step.name, action=step.action,
                       error=type(exc).__name__, duration_s=round(time.perf_counter() - clock, 6))
        raise
    result = StepResult(
        name=step.name,
        status=outcome.status,
        message=outcome.message,
        getter=step.get if isinstance(step, GetStep) else None,
        failed_expectations=outcome.failed_expectations,
        on_failure=step.on_failure.to_hint() if step.on_failure else None,
        started_at=started_at,
        duration_s=time.perf_counter() - clock,
    )
    _log_step(logger, result)
    return result


def _log_step(logger: Any, result: StepResult) -> None:
    """Names, statuses and expression sources only: getter answers may hold customer data.

    A failed check is a finding, not a malfunction (info); a step that could not be
    evaluated is (warning)."""
    level = "warning" if result.status is StepStatus.ERROR else "info"
    getattr(logger, level)(
        "step.finished",
        step=result.name,
        getter=result.getter,
        status=result.status.value,
        failed_expectations=result.failed_expectations or None,
        duration_s=round(result.duration_s, 6),
    )


# --- step kinds ----------------------------------------------------------------------


def _run_get(step: GetStep, driver: GetterSource, scope: _Scope, run: RunResult) -> _Outcome:
    """Read the getter, keep the answer as evidence, then check the expectations."""
    try:
        value = driver.get(step.get)
    except (CommandRejected, ParseError) as exc:
        return _Outcome(StepStatus.ERROR, f"{step.get}: {exc}")
    data = to_jsonable(value)
    run.facts[step.get] = data
    if step.register:
        scope.variables[step.register] = data
    return _check_expectations(step.expect, scope.with_result(data), subject=step.get)


#: Step class → handler; command/set/ask/wait steps add their own entry.
_HANDLERS: dict[type[Step], StepHandler] = {
    GetStep: _run_get,
}


# --- expectations --------------------------------------------------------------------


def _check_expectations(expectations: tuple[Expectation, ...], context: Mapping[str, Any],
                       *, subject: str) -> _Outcome:
    """Evaluate every expectation (not just up to the first failure: all are evidence)."""
    failed: list[str] = []
    errors: list[str] = []
    for expectation in expectations:
        try:
            if not expectation.expression.is_true(context):
                failed.append(expectation.source)
        except ExpressionError as exc:
            errors.append(f"{expectation.source!r}: {exc}")
    if errors:
        return _Outcome(StepStatus.ERROR, "could not evaluate " + "; ".join(errors), failed)
    if failed:
        return _Outcome(StepStatus.FAILED,
                        f"{len(failed)} of {len(expectations)} expectations failed: "
                        + "; ".join(failed), failed)
    return _Outcome(StepStatus.OK, _ok_message(subject, len(expectations)))


def _ok_message(subject: str, checked: int) -> str:
    if not checked:
        return f"read {subject}"
    return f"read {subject}; {checked} expectation{'s' if checked > 1 else ''} held"
