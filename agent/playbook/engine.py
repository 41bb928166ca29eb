"""Run a validated playbook against a driver and fill in the RunResult.

The engine owns the step loop and nothing else: it never opens a line (the runner hands
it a driver), never writes where the line went (the runner records the path), and never
classifies faults (tickets read the RunResult). What each action does is its step kind's
handler (``agent/playbook/steps/``); here is the order a step passes its gates in, one
function (:meth:`_Engine.step`), and the recording. A lost line ends the run (propagates,
for the runner to record) with every finished step already in ``run.steps``.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from agent.errors import ConnectionProblem, PlaybookError
from agent.line.secrets import REDACTOR
from agent.playbook.expressions import RESERVED_NAMES, Expression, ExpressionError, kind_of
from agent.playbook.gates import check_options, tag_reason, vendor_reason
from agent.playbook.kinds import kind_named
from agent.playbook.model import Expectation, Playbook, Step
from agent.playbook.runtime import (
    PBX_ANSWER_ERRORS,
    GetterSource,
    Interrupted,
    Outcome,
    RunOptions,
    StepRun,
    error,
    pbx_now,
    render_data,
    reply_error,
    skipped,
)
from agent.result import ErrorCause, RunResult, RunStatus, StepResult, StepStatus
from drivers.model import to_jsonable

log = structlog.get_logger(__name__)


def run_playbook(playbook: Playbook, driver: GetterSource, run: RunResult, *,
                 extra_vars: Mapping[str, Any] | None = None,
                 options: RunOptions | None = None) -> RunResult:
    """Run every step in order, append a StepResult each, then set ``run.status``.

    A ``ConnectionProblem`` from the driver propagates unchanged; the steps finished
    before it are already recorded and ``run.status`` is left for the runner to set.
    """
    options = options or RunOptions()
    check_options(playbook, options)
    extra = _extra_vars(playbook, extra_vars)
    run.check_mode = playbook.has_changes and not options.apply
    state = StepRun(driver, run, options,
                    log.bind(playbook=playbook.name, run_id=run.run_id, site=run.site))
    _Engine(state, extra).run_steps(playbook.steps, {**playbook.vars, **extra}, ())
    run.status = RunStatus.FAILED if run.failed_steps else RunStatus.PASSED
    return run


def _extra_vars(playbook: Playbook, extra_vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """Caller-given vars override the playbook's everywhere (like ``-e`` on a command line)."""
    extra = dict(extra_vars or {})
    clashes = sorted(RESERVED_NAMES.intersection(extra))
    if clashes:
        raise PlaybookError(f"extra vars clash with built-in names: {', '.join(clashes)}",
                            path=playbook.path)
    return extra


@dataclass(frozen=True, slots=True)
class _Started:
    at: datetime
    clock: float


class _Engine:
    """One run: the handlers' state, registered values, the PBX model (read once)."""

    def __init__(self, state: StepRun, extra: dict[str, Any]) -> None:
        self.state = state
        self.options = state.options
        self.extra = extra
        self.registered: dict[str, Any] = {}
        self._model: str | None = state.options.model

    def run_steps(self, steps: Sequence[Step], variables: dict[str, Any],
                  tags: tuple[str, ...]) -> None:
        for step in steps:
            self.step(step, variables, tags)

    def step(self, step: Step, variables: dict[str, Any], tags: tuple[str, ...]) -> None:
        """One step through its gates, in this order, the first that says no deciding:

        1. the run has stopped or was cancelled;
        2. ``--tags`` / ``--skip-tags`` (an include's own tags pass on to its steps instead);
        3. ``vendors`` (the driver's vendor, known without the PBX);
        4. ``models`` — the one gate that reads the PBX (``system_info``, once a run);
        5. the step's own ``vars`` rendered (a failure is an error only if ``when`` holds);
        6. an include runs its steps here (after ``when``); otherwise ``loop`` gives the
           items, and each runs ``when`` → the action with ``retries``/``until`` → ``expect``.
        """
        started = _clock()
        inner = step.included
        own_tags = (*tags, *step.tags)
        reason = self._stopped() \
            or (None if inner is not None else tag_reason(own_tags, self.options)) \
            or (vendor_reason(step, self.state.driver.vendor) if step.for_vendors else None)
        if reason is None and step.models:
            try:
                model = self._pbx_model()
            except PBX_ANSWER_ERRORS as exc:
                self._record(step, reply_error(f"cannot tell the PBX model: {exc}", exc),
                             started)
                return
            reason = _model_reason(step, model)
        if reason is not None:
            self._record(step, skipped(reason), started)
            return
        context, own_vars, vars_error = self._context_for(step, variables)
        if inner is not None:
            try:
                blocked = _blocked(step, context, vars_error)
            except ExpressionError as exc:
                blocked = error(str(exc))
            if blocked is not None:
                self._record(step, blocked, started)
                return
            self.run_steps(inner.steps, {**inner.vars, **variables, **own_vars, **self.extra},
                           own_tags)
            return
        if step.loop is None:
            outcome = self._once(step, context, started, vars_error=vars_error)
            if step.register and _has_value(outcome):
                self.registered[step.register] = outcome.value
            return
        if vars_error is not None:
            self._record(step, error(vars_error), started)
            return
        self._loop(step, context, started)

    def _stopped(self) -> str | None:
        if self.state.stopped is None and self.options.stop.is_set():
            return "the run was cancelled"
        return self.state.stopped

    def _pbx_model(self) -> str:
        """The model from ``system_info``, read once and only when a step asks for it."""
        if self._model is None:
            info = to_jsonable(self.state.driver.get("system_info"))
            self.state.run.facts.setdefault("system_info", info)
            self._model = str(info.get("model", "")) if isinstance(info, Mapping) else ""
        return self._model

    def _context_for(self, step: Step, variables: Mapping[str, Any]
                     ) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        """The names the step's expressions see, its own rendered vars, and a vars error."""
        context = {**variables, **self.registered, "answers": dict(self.state.answers),
                   "now": pbx_now(self.options.timezone).isoformat(timespec="seconds"),
                   "in_working_hours": self.options.in_working_hours,
                   "check_mode": not self.options.apply}
        try:
            own_vars = render_data(dict(step.vars), context)
        except ExpressionError as exc:
            return {**context, **self.extra}, {}, f"vars: {exc}"
        return {**context, **own_vars, **self.extra}, own_vars, None

    def _loop(self, step: Step, context: dict[str, Any], started: _Started) -> None:
        try:
            items = _loop_items(step, context)
        except ExpressionError as exc:
            self._record(step, error(f"loop: {exc}"), started)
            return
        values: list[Any] = []
        for item in items:
            label = _label(item, len(values))
            if self.state.stopped:
                self._record(step, skipped(self.state.stopped), _clock(), item=(label, item))
                values.append(None)
                continue
            outcome = self._once(step, {**context, step.loop_var: item}, _clock(),
                                 item=(label, item))
            values.append(outcome.value if _has_value(outcome) else None)
        if step.register:
            self.registered[step.register] = values

    def _once(self, step: Step, context: dict[str, Any], started: _Started,
              item: tuple[str, Any] | None = None, vars_error: str | None = None) -> Outcome:
        """``when``, then the action (with retries), then the expectations."""
        try:
            outcome = _blocked(step, context, vars_error) \
                or self._attempts(step, context, item[0] if item else None)
        except ExpressionError as exc:
            outcome = error(str(exc))
        except Interrupted:
            outcome = error("interrupted", ErrorCause.INTERRUPTED)
        except ConnectionProblem:
            raise  # the line is gone: the runner records it
        except Exception as exc:  # a bug of ours is a recorded result, not a traceback
            outcome = self._unexpected(step, exc)
        self._record(step, outcome, started, item=item)
        return outcome

    def _unexpected(self, step: Step, exc: Exception) -> Outcome:
        """Anything nobody expected, inside a step: an error step with the exception named,
        never a traceback. If the step had started a write, the PBX may hold it: the run
        stops and is flagged half-programmed (exit 4), for an engineer to check by hand."""
        self.state.logger.error("step.unexpected_exception", step=step.name,
                                error=REDACTOR.scrub(f"{type(exc).__name__}: {exc}"))
        message = f"unexpected {type(exc).__name__} in pbxdiag: {exc}"
        if self.state.write_started:
            self.state.run.half_programmed = True
            self.state.stopped = "skipped: the PBX MAY BE HALF-PROGRAMMED"
            message = (f"PBX MAY BE HALF-PROGRAMMED: a write had been sent when pbxdiag "
                       f"failed ({message}); check the setting by hand")
        return error(message, ErrorCause.INTERNAL)

    def _attempts(self, step: Step, context: dict[str, Any], label: str | None = None
                  ) -> Outcome:
        """Run the action until ``until`` holds (at most 1 + retries times), then expect."""
        handler = kind_named(step.action).run
        if handler is None:  # the loader builds no such step outside an include
            raise TypeError(f"step kind {step.action!r} has no handler")
        self.state.tell("step", f"{step.name} [{label}]" if label else step.name)
        attempt = 0
        while True:
            attempt += 1
            outcome = handler(step, self.state, context)
            outcome.attempts = max(outcome.attempts, attempt)
            if step.until is None or outcome.status is StepStatus.SKIPPED:
                break
            if outcome.status is not StepStatus.ERROR and \
                    step.until.is_true({**context, "result": outcome.value}):
                break
            if attempt > step.retries:
                if outcome.status is not StepStatus.ERROR:
                    outcome = Outcome(StepStatus.FAILED, f"still not {step.until.source} "
                                      f"after {attempt} attempts", outcome.value,
                                      attempts=attempt, output=outcome.output)
                break
            self.state.pause(step.delay)
        return _expect(step, outcome, context)

    def _record(self, step: Step, outcome: Outcome, started: _Started,
                item: tuple[str, Any] | None = None) -> None:
        """Append the StepResult (secrets scrubbed) and stop the run if the step says so."""
        failed = outcome.status in (StepStatus.FAILED, StepStatus.ERROR)
        self.state.write_started = False
        result = StepResult(
            name=f"{step.name} [{item[0]}]" if item else step.name,
            status=outcome.status,
            message=REDACTOR.scrub(outcome.message),
            getter=step.getter,
            failed_expectations=outcome.failed_expectations,
            on_failure=step.on_failure.to_hint() if step.on_failure else None,
            started_at=started.at,
            duration_s=time.perf_counter() - started.clock,
            action=step.action,
            attempts=outcome.attempts,
            diff=outcome.diff,
            rollback=outcome.rollback,
            output=REDACTOR.scrub(outcome.output) if outcome.output is not None else None,
            item=to_jsonable(item[1]) if item else None,
            cause=outcome.cause if outcome.status is StepStatus.ERROR else None,
        )
        self.state.run.steps.append(result)
        _log_step(self.state.logger, result)
        if failed and not step.continue_on_failure and self.state.stopped is None:
            self.state.stopped = (f'skipped: the run stopped after "{result.name}" '
                                  f"{result.status.value} (continue_on_failure: false)")


def _clock() -> _Started:
    return _Started(datetime.now(UTC), time.perf_counter())


# --- the gates' rules (none of them reads the PBX) --------------------------------------


def _model_reason(step: Step, model: str) -> str | None:
    if not any(fnmatch.fnmatchcase(model.upper(), p.upper()) for p in step.models):
        return f"not for model {model}: only {', '.join(step.models)}"
    return None


def _blocked(step: Step, context: Mapping[str, Any], vars_error: str | None) -> Outcome | None:
    """Skipped when ``when`` is false (whatever the vars did), an error when the vars failed."""
    if step.when is not None and not step.when.is_true(context):
        return skipped(f"condition is false: {step.when.source}")
    return error(vars_error) if vars_error is not None else None


def _has_value(outcome: Outcome) -> bool:
    """A skipped or broken step registers nothing: a later use is "undefined", not null."""
    return outcome.status not in (StepStatus.SKIPPED, StepStatus.ERROR)


#: Items one loop may run: a PBX has at most a few thousand ports, and each item is a
#: console round trip, a step result and a line of result.json (issue 13 #5: a 200,000-
#: item loop ran 67 s and wrote an 85 MB result).
MAX_LOOP_ITEMS = 2000


def _loop_items(step: Step, context: dict[str, Any]) -> list[Any]:
    if isinstance(step.loop, Expression):
        items = step.loop.evaluate(context)
        if isinstance(items, Mapping) or not isinstance(items, (list, tuple)):
            raise ExpressionError(f"{step.loop.source!r} must give a list, got {kind_of(items)}")
    else:
        items = step.loop or ()
    if len(items) > MAX_LOOP_ITEMS:
        raise ExpressionError(f"the loop has {len(items)} items (at most {MAX_LOOP_ITEMS})")
    if isinstance(step.loop, Expression):
        return list(items)
    return [render_data(item, context) for item in items]


def _label(item: Any, index: int) -> str:
    if isinstance(item, (str, int, float)) and not isinstance(item, bool) \
            and 0 < len(str(item)) <= 40:
        return str(item)
    return f"#{index + 1}"


# --- expectations and logging -------------------------------------------------------------


def _expect(step: Step, outcome: Outcome, context: dict[str, Any]) -> Outcome:
    if not step.expect or outcome.status not in (StepStatus.OK, StepStatus.CHANGED):
        return outcome
    checked = _check_expectations(step.expect, {**context, "result": outcome.value})
    if checked is None:
        count = len(step.expect)
        outcome.message += f"; {count} expectation{'s' if count > 1 else ''} held"
        return outcome
    checked.value, checked.attempts = outcome.value, outcome.attempts
    checked.diff, checked.output = outcome.diff, outcome.output
    return checked


def _check_expectations(expectations: tuple[Expectation, ...], context: Mapping[str, Any]
                        ) -> Outcome | None:
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
        return Outcome(StepStatus.ERROR, "could not evaluate " + "; ".join(errors),
                       failed_expectations=failed)
    if failed:
        return Outcome(StepStatus.FAILED,
                       f"{len(failed)} of {len(expectations)} expectations failed: "
                       + "; ".join(failed), failed_expectations=failed)
    return None


def _log_step(logger: Any, result: StepResult) -> None:
    """Names, statuses and expression sources only: getter answers may hold customer data.

    A failed check is a finding, not a malfunction (info); a step that could not be
    evaluated is (warning)."""
    level = "warning" if result.status is StepStatus.ERROR else "info"
    getattr(logger, level)(
        "step.finished",
        step=result.name,
        action=result.action,
        getter=result.getter,
        status=result.status.value,
        attempts=result.attempts,
        failed_expectations=result.failed_expectations or None,
        duration_s=round(result.duration_s, 6),
    )
