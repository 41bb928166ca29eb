"""Run a validated playbook against a driver and fill in the RunResult.

The engine owns the step loop and nothing else: it never opens a line (the runner hands
it a driver) and never classifies faults (tickets read the RunResult). Errors are sorted
three ways: a failed check is data (``failed``), a PBX that refuses or garbles one answer
spoils only that step (``error``), and a lost line ends the run (propagates, for the
runner to record) with every finished step already in ``run.steps``.

Programming changes are safe by construction: nothing is written unless the caller
passed ``apply``; every write is read back, a mismatch is rolled back and the rollback
verified, and a failed rollback stops the run with ``run.half_programmed`` set.
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Protocol

import structlog

from agent.errors import (
    CommandRejected,
    ConnectionProblem,
    InputError,
    ParseError,
    PlaybookError,
)
from agent.line.secrets import MASK, REDACTOR, Secret
from agent.playbook.answers import Asker, normalise_answer, prompt_for
from agent.playbook.expressions import (
    RESERVED_NAMES,
    Expression,
    ExpressionError,
    Template,
    kind_of,
)
from agent.playbook.model import (
    AnswerType,
    AskStep,
    BackupStep,
    CommandStep,
    Expectation,
    GetStep,
    IncludeStep,
    Playbook,
    ReadStep,
    SetStep,
    Step,
    WaitStep,
)
from agent.result import RunResult, RunStatus, StepResult, StepStatus
from drivers.base import SETTINGS
from drivers.model import to_jsonable

log = structlog.get_logger(__name__)

#: What a PBX may answer badly without the run ending: the step becomes ``error``.
_PBX_ANSWER_ERRORS = (CommandRejected, ParseError, InputError)
#: Special tags: ``always`` runs whatever ``--tags`` says (``--skip-tags`` still skips it),
#: ``never`` runs only when one of its tags is asked for, ``all`` means every tag.
SPECIAL_TAGS = frozenset({"always", "never", "all"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_ASK_TRIES = 3


class GetterSource(Protocol):
    """What the engine needs of a driver (``drivers.base.Driver`` satisfies it)."""

    @property
    def vendor(self) -> str: ...

    def get(self, getter: str, **params: Any) -> Any: ...

    def run_command(self, command: str) -> str: ...

    def read_setting(self, key: str, target: str | None = None) -> str | None: ...

    def write_setting(self, key: str, value: str, target: str | None = None) -> None: ...

    def backup(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: apply or check, which tags, the answers, and the site's clock.

    ``stop`` lets a caller (Ctrl-C, a fleet shutting down) end waits and retries early:
    every pause in the engine is ``stop.wait(seconds)``, never a sleep.
    """

    apply: bool = False
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    answers: Mapping[str, Any] = field(default_factory=dict)
    asker: Asker | None = None
    in_working_hours: bool | None = None
    timezone: tzinfo | None = None
    model: str | None = None  # the PBX model, when the caller already knows it
    stop: threading.Event = field(default_factory=threading.Event)


def check_options(playbook: Playbook, options: RunOptions) -> None:
    """Refuse tags and answer keys the playbook does not know (a typo would run nothing)."""
    known_tags = playbook.tags | SPECIAL_TAGS
    unknown = sorted((options.tags | options.skip_tags) - known_tags)
    if unknown:
        listed = ", ".join(sorted(playbook.tags)) or "none"
        raise PlaybookError(f"unknown tag{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(unknown)} (tags in this playbook: {listed})",
                            path=playbook.path)
    strays = sorted(set(options.answers) - playbook.ask_keys)
    if strays:
        keys = ", ".join(sorted(playbook.ask_keys)) or "none"
        raise PlaybookError(f"no question has the answer key{'s' if len(strays) > 1 else ''} "
                            f"{', '.join(strays)} (answer keys in this playbook: {keys})",
                            path=playbook.path)


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
    engine = _Engine(driver, run, options, extra,
                     log.bind(playbook=playbook.name, run_id=run.run_id, site=run.site))
    engine.run_steps(playbook.steps, {**playbook.vars, **extra}, ())
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


# --- outcomes ------------------------------------------------------------------------


@dataclass(slots=True)
class _Outcome:
    """What one run of a step's action found; ``value`` is what ``register`` keeps."""

    status: StepStatus
    message: str
    value: Any = None
    failed_expectations: list[str] = field(default_factory=list)
    attempts: int = 1
    diff: dict[str, Any] | None = None
    rollback: dict[str, Any] | None = None
    output: str | None = None


def _skipped(reason: str) -> _Outcome:
    return _Outcome(StepStatus.SKIPPED, reason, attempts=0)


def _error(message: str) -> _Outcome:
    return _Outcome(StepStatus.ERROR, message)


def _unsupported(driver: GetterSource, exc: NotImplementedError) -> _Outcome:
    """A check this driver cannot make yet is not a fault of the PBX: skipped, with why."""
    vendor = getattr(driver, "vendor", "this")
    return _skipped(f"not supported by the {vendor} driver: {exc}")


class _Interrupted(Exception):
    """The caller set ``stop`` during a pause."""


# --- the engine ------------------------------------------------------------------------


class _Engine:
    """One run's state: registered values, answers, the PBX model (fetched once)."""

    def __init__(self, driver: GetterSource, run: RunResult, options: RunOptions,
                 extra: dict[str, Any], logger: Any) -> None:
        self.driver = driver
        self.run = run
        self.options = options
        self.extra = extra
        self.logger = logger
        self.registered: dict[str, Any] = {}
        self.answers: dict[str, Any] = {}
        self.stopped: str | None = None
        self._model: str | None = options.model

    # --- the step loop --------------------------------------------------------------

    def run_steps(self, steps: Sequence[Step], variables: dict[str, Any],
                  tags: tuple[str, ...]) -> None:
        for step in steps:
            if isinstance(step, IncludeStep):
                self._include(step, variables, tags)
            else:
                self._step(step, variables, (*tags, *step.tags))

    def _include(self, step: IncludeStep, variables: dict[str, Any],
                 tags: tuple[str, ...]) -> None:
        """Included steps see: their file's vars < ours < the include's vars < extra vars."""
        started = self._clock()
        gate = self._gate(step, variables, tags, tag_filter=False)
        if isinstance(gate, _Outcome):
            self._record(step, gate, started)
            return
        try:
            blocked = _blocked(step, gate.context, gate.vars_error)
        except ExpressionError as exc:
            blocked = _error(str(exc))
        if blocked is not None:
            self._record(step, blocked, started)
            return
        inner = {**step.playbook.vars, **variables, **gate.own_vars, **self.extra}
        self.run_steps(step.playbook.steps, inner, (*tags, *step.tags))

    def _step(self, step: Step, variables: dict[str, Any], tags: tuple[str, ...]) -> None:
        started = self._clock()
        gate = self._gate(step, variables, tags, tag_filter=True)
        if isinstance(gate, _Outcome):
            self._record(step, gate, started)
            return
        if step.loop is None:
            outcome = self._once(step, gate.context, started, vars_error=gate.vars_error)
            if step.register and _has_value(outcome):
                self.registered[step.register] = outcome.value
            return
        if gate.vars_error is not None:
            self._record(step, _error(gate.vars_error), started)
            return
        self._loop(step, gate.context, started)

    def _loop(self, step: Step, context: dict[str, Any], started: _Started) -> None:
        try:
            items = _loop_items(step, context)
        except ExpressionError as exc:
            self._record(step, _error(f"loop: {exc}"), started)
            return
        values: list[Any] = []
        for item in items:
            label = _label(item, len(values))
            if self.stopped:
                self._record(step, _skipped(self.stopped), self._clock(), item=(label, item))
                values.append(None)
                continue
            outcome = self._once(step, {**context, step.loop_var: item}, self._clock(),
                                 item=(label, item))
            values.append(outcome.value if _has_value(outcome) else None)
        if step.register:
            self.registered[step.register] = values

    def _once(self, step: Step, context: dict[str, Any], started: _Started,
              item: tuple[str, Any] | None = None, vars_error: str | None = None) -> _Outcome:
        """``when``, then the action (with retries), then the expectations."""
        try:
            outcome = _blocked(step, context, vars_error) or self._attempts(step, context)
        except ExpressionError as exc:
            outcome = _error(str(exc))
        except _Interrupted:
            outcome = _error("interrupted")
        self._record(step, outcome, started, item=item)
        return outcome

    # --- gates: stopped, tags, vendor, model, step vars ------------------------------

    def _gate(self, step: Step, variables: dict[str, Any], tags: tuple[str, ...], *,
              tag_filter: bool) -> _Outcome | _Gate:
        """A skip (or error) outcome, or the step's context with its own vars rendered."""
        reason = self.stopped
        if reason is None and self.options.stop.is_set():
            reason = "the run was cancelled"
        if reason is None and tag_filter:
            reason = _tag_reason(tags, self.options)
        if reason is None:
            try:
                reason = self._pbx_reason(step)
            except _PBX_ANSWER_ERRORS as exc:
                return _error(f"cannot tell the PBX model: {exc}")
        if reason is not None:
            return _skipped(reason)
        context = self._context(variables)
        try:
            own_vars = render_data(dict(step.vars), context)
        except ExpressionError as exc:  # an error only if ``when`` lets the step run
            return _Gate({**context, **self.extra}, {}, f"vars: {exc}")
        return _Gate({**context, **own_vars, **self.extra}, own_vars)

    def _pbx_reason(self, step: Step) -> str | None:
        vendors = step.vendors or (tuple(step.commands) if isinstance(step, CommandStep) else ())
        if vendors:
            vendor = self.driver.vendor
            if vendor not in vendors:
                return f"not for {vendor}: only {', '.join(vendors)}"
        if step.models:
            model = self._pbx_model()
            if not any(fnmatch.fnmatchcase(model.upper(), p.upper()) for p in step.models):
                return f"not for model {model}: only {', '.join(step.models)}"
        return None

    def _pbx_model(self) -> str:
        """The model from ``system_info``, read once and only when a step asks for it."""
        if self._model is None:
            info = to_jsonable(self.driver.get("system_info"))
            self.run.facts.setdefault("system_info", info)
            self._model = str(info.get("model", "")) if isinstance(info, Mapping) else ""
        return self._model

    def _context(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        return {**variables, **self.registered, "answers": dict(self.answers),
                "now": _now(self.options.timezone).isoformat(timespec="seconds"),
                "in_working_hours": self.options.in_working_hours,
                "check_mode": not self.options.apply}

    # --- retries ---------------------------------------------------------------------

    def _attempts(self, step: Step, context: dict[str, Any]) -> _Outcome:
        """Run the action until ``until`` holds (at most 1 + retries times), then expect."""
        handler = _HANDLERS[type(step)]
        attempt = 0
        while True:
            attempt += 1
            outcome = handler(self, step, context)
            outcome.attempts = max(outcome.attempts, attempt)
            if step.until is None or outcome.status is StepStatus.SKIPPED:
                break
            if outcome.status is not StepStatus.ERROR and \
                    step.until.is_true({**context, "result": outcome.value}):
                break
            if attempt > step.retries:
                if outcome.status is not StepStatus.ERROR:
                    outcome = _Outcome(StepStatus.FAILED, f"still not {step.until.source} "
                                       f"after {attempt} attempts", outcome.value,
                                       attempts=attempt, output=outcome.output)
                break
            self.pause(step.delay)
        return self._expect(step, outcome, context)

    def pause(self, seconds: float) -> None:
        """Wait without sleeping blind: a cancelled run wakes at once."""
        if self.options.stop.wait(seconds):
            raise _Interrupted

    def _expect(self, step: Step, outcome: _Outcome, context: dict[str, Any]) -> _Outcome:
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

    # --- recording -------------------------------------------------------------------

    def _clock(self) -> _Started:
        return _Started(datetime.now(UTC), time.perf_counter())

    def _record(self, step: Step, outcome: _Outcome, started: _Started,
                item: tuple[str, Any] | None = None) -> None:
        """Append the StepResult (secrets scrubbed) and stop the run if the step says so."""
        failed = outcome.status in (StepStatus.FAILED, StepStatus.ERROR)
        result = StepResult(
            name=f"{step.name} [{item[0]}]" if item else step.name,
            status=outcome.status,
            message=REDACTOR.scrub(outcome.message),
            getter=step.get if isinstance(step, (GetStep, WaitStep)) else None,
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
        )
        self.run.steps.append(result)
        _log_step(self.logger, result)
        if failed and not step.continue_on_failure and self.stopped is None:
            self.stopped = (f'skipped: the run stopped after "{result.name}" '
                            f"{result.status.value} (continue_on_failure: false)")


@dataclass(frozen=True, slots=True)
class _Started:
    at: datetime
    clock: float


@dataclass(frozen=True, slots=True)
class _Gate:
    """A step that may run: the names its expressions see, and its own rendered vars."""

    context: dict[str, Any]
    own_vars: dict[str, Any]
    vars_error: str | None = None


def _blocked(step: Step, context: Mapping[str, Any], vars_error: str | None) -> _Outcome | None:
    """Skipped when ``when`` is false (whatever the vars did), an error when the vars failed."""
    if step.when is not None and not step.when.is_true(context):
        return _skipped(f"condition is false: {step.when.source}")
    return _error(vars_error) if vars_error is not None else None


def _has_value(outcome: _Outcome) -> bool:
    """A skipped or broken step registers nothing: a later use is "undefined", not null."""
    return outcome.status not in (StepStatus.SKIPPED, StepStatus.ERROR)


def _tag_reason(tags: Sequence[str], options: RunOptions) -> str | None:
    own = set(tags)
    skipped = own & options.skip_tags
    if skipped:
        return f"skipped by --skip-tags {', '.join(sorted(skipped))}"
    wanted = options.tags - {"all"}
    if "never" in own and not own & wanted:
        return "tagged never: runs only when --tags names one of its tags"
    if not options.tags or "all" in options.tags or "always" in own or own & wanted:
        return None
    return f"not selected by --tags {', '.join(sorted(options.tags))}"


def _loop_items(step: Step, context: dict[str, Any]) -> list[Any]:
    if isinstance(step.loop, Expression):
        items = step.loop.evaluate(context)
        if isinstance(items, Mapping) or not isinstance(items, (list, tuple)):
            raise ExpressionError(f"{step.loop.source!r} must give a list, got {kind_of(items)}")
        return list(items)
    return [render_data(item, context) for item in step.loop or ()]


def _label(item: Any, index: int) -> str:
    if isinstance(item, (str, int, float)) and not isinstance(item, bool) \
            and 0 < len(str(item)) <= 40:
        return str(item)
    return f"#{index + 1}"


def render_data(value: Any, context: Mapping[str, Any]) -> Any:
    """Plain data with its templates rendered (vars, loop items)."""
    if isinstance(value, Template):
        return value.render(context)
    if isinstance(value, Mapping):
        return {key: render_data(child, context) for key, child in value.items()}
    if isinstance(value, list):
        return [render_data(child, context) for child in value]
    return value


def _now(zone: tzinfo | None) -> datetime:
    """PBX-local wall time (no zone), which is how PBXs print and take times."""
    return datetime.now(zone).replace(tzinfo=None) if zone else datetime.now()


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


# --- expectations --------------------------------------------------------------------


def _check_expectations(expectations: tuple[Expectation, ...], context: Mapping[str, Any]
                        ) -> _Outcome | None:
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
        return _Outcome(StepStatus.ERROR, "could not evaluate " + "; ".join(errors),
                        failed_expectations=failed)
    if failed:
        return _Outcome(StepStatus.FAILED,
                        f"{len(failed)} of {len(expectations)} expectations failed: "
                        + "; ".join(failed), failed_expectations=failed)
    return None


# --- step kinds: reading ---------------------------------------------------------------


def _run_get(engine: _Engine, step: GetStep, context: dict[str, Any]) -> _Outcome:
    """Read the getter (only what is new, with ``since``) and keep the answer as evidence."""
    params = {}
    if step.since is not None:
        since = _since(step.since.evaluate(context), engine.options.timezone)
        if since is not None:
            params["since"] = since
    try:
        value = engine.driver.get(step.get, **params)
    except _PBX_ANSWER_ERRORS as exc:
        return _error(f"{step.get}: {exc}")
    except NotImplementedError as exc:
        return _unsupported(engine.driver, exc)
    data = to_jsonable(value)
    engine.run.facts[step.get] = data
    suffix = f" since {params['since']:%Y-%m-%d %H:%M}" if params else ""
    return _Outcome(StepStatus.OK, f"read {step.get}{suffix}", data)


def _since(value: Any, zone: tzinfo | None) -> datetime | None:
    """None, an ISO time (PBX local), a date, or ``30m`` / ``24h`` / ``7d`` back from now."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    if isinstance(value, str):
        relative = _RELATIVE.match(value)
        if relative:
            amount, unit = int(relative[1]), _UNITS[relative[2]]
            return _now(zone).replace(microsecond=0) - timedelta(**{unit: amount})
        try:
            return _since(datetime.fromisoformat(value.strip()), zone)
        except ValueError:
            pass
    raise ExpressionError(f"since must be an ISO 8601 time or like 30m, 24h, 7d; "
                          f"got {value!r}")


def _run_read(engine: _Engine, step: ReadStep, context: dict[str, Any]) -> _Outcome:
    target = _line(step.target.render(context), "target") if step.target else None
    label = _setting_label(step.setting, target)
    try:
        value = engine.driver.read_setting(step.setting, target)
    except _PBX_ANSWER_ERRORS as exc:
        return _error(f"{label}: {exc}")
    except NotImplementedError as exc:
        return _unsupported(engine.driver, exc)
    engine.run.facts.setdefault("settings", {})[label] = value
    return _Outcome(StepStatus.OK, f"read {label}: {value!r}", value)


def _run_backup(engine: _Engine, step: BackupStep, context: dict[str, Any]) -> _Outcome:
    try:
        text = engine.driver.backup()
    except _PBX_ANSWER_ERRORS as exc:
        return _error(f"backup: {exc}")
    except NotImplementedError as exc:
        return _unsupported(engine.driver, exc)
    engine.run.facts["backup"] = text
    lines = len(text.splitlines())
    return _Outcome(StepStatus.OK, f"backup taken: {lines} setting{'s' * (lines != 1)}", text)


def _run_command(engine: _Engine, step: CommandStep, context: dict[str, Any]) -> _Outcome:
    """Send a raw command; the output must match ``expect_output`` and not ``reject_output``."""
    text = _line(step.commands[engine.driver.vendor].render(context), "command")
    if step.changes and not engine.options.apply:
        return _skipped(f"check mode: {text!r} not sent (it changes the PBX; use --apply)")
    try:
        output = engine.driver.run_command(text)
    except _PBX_ANSWER_ERRORS as exc:
        return _error(str(exc))
    except NotImplementedError as exc:
        return _unsupported(engine.driver, exc)
    status = StepStatus.CHANGED if step.changes else StepStatus.OK
    problems = [f"output does not match /{p.source}/" for p in step.expect_output
                if not p.found_in(output)]
    problems += [f"output matches /{p.source}/" for p in step.reject_output if p.found_in(output)]
    if problems:
        return _Outcome(StepStatus.FAILED, f"{text}: " + "; ".join(problems), output,
                        output=output)
    return _Outcome(status, f"sent {text!r}", output, output=output)


def _line(text: str, what: str) -> str:
    """Text bound for the PBX's console is one line: a CR would smuggle in a second command."""
    if _CONTROL.search(text):
        raise ExpressionError(f"the {what} contains a line break or control character: refused")
    return text


def _setting_label(setting: str, target: str | None) -> str:
    return f"{setting} {target}" if target else setting


# --- step kinds: asking and waiting ------------------------------------------------------


def _run_ask(engine: _Engine, step: AskStep, context: dict[str, Any]) -> _Outcome:
    """An answer given in advance wins; else the terminal; else the step is an error."""
    question = step.question.render(context)
    given = step.key in engine.options.answers
    if given:
        value, problem = normalise_answer(step, engine.options.answers[step.key])
        if problem:
            return _error(f"--answer {step.key}: {problem}")
    else:
        asked = _ask_person(engine.options.asker, step, question)
        if isinstance(asked, _Outcome):
            return asked
        value = asked
    shown = MASK if step.type is AnswerType.SECRET else value
    engine.run.answers[step.key] = shown
    engine.answers[step.key] = value.reveal() if isinstance(value, Secret) else value
    how = "given in advance" if given else "answered at the terminal"
    return _Outcome(StepStatus.OK, f"{step.key} = {shown!r} ({how})",
                    engine.answers[step.key])


def _ask_person(asker: Asker | None, step: AskStep, question: str) -> Any:
    if asker is None:
        return _error(f"no answer for {step.key!r}: give --answer {step.key}=... or "
                      "--answers FILE (nobody to ask: input is not a terminal)")
    prompt = prompt_for(step, question)
    for _ in range(_ASK_TRIES):
        raw = asker.ask(prompt, secret=step.type is AnswerType.SECRET)
        if raw is None:
            return _error(f"no answer for {step.key!r} (input ended)")
        value, problem = normalise_answer(step, raw)
        if problem is None:
            return value
        asker.say(problem)
    return _error(f"no valid answer for {step.key!r} after {_ASK_TRIES} tries")


def _run_wait(engine: _Engine, step: WaitStep, context: dict[str, Any]) -> _Outcome:
    """Poll until the condition holds; ``stop.wait(interval)`` between polls, one deadline.

    Polling is the one place an interval is legitimate: a PBX has no way to tell us that
    a card came back. A getter error while waiting (a card mid-restart) is polled past.
    """
    deadline = time.monotonic() + step.timeout
    polls, last, problem = 0, None, ""
    while True:
        polls += 1
        try:
            last = to_jsonable(engine.driver.get(step.get))
            engine.run.facts[step.get] = last
            if step.condition.is_true({**context, "result": last}):
                return _Outcome(StepStatus.OK, f"{step.condition.source} after {polls} "
                                f"poll{'s' * (polls > 1)}", last, attempts=polls)
        except _PBX_ANSWER_ERRORS as exc:
            problem = f"; last poll: {exc}"
        except NotImplementedError as exc:
            return _unsupported(engine.driver, exc)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _Outcome(StepStatus.FAILED, f"still not {step.condition.source} after "
                            f"{step.timeout:g}s ({polls} polls){problem}", last, attempts=polls)
        engine.pause(min(step.interval, remaining))


# --- step kind: set (a programming change) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Change:
    """One requested change, rendered and checked."""

    step_name: str
    setting: str
    target: str | None
    value: str
    write_only: bool = False

    @property
    def shown(self) -> str:
        return MASK if self.write_only else self.value

    @property
    def label(self) -> str:
        return _setting_label(self.setting, self.target)

    def diff(self, before: Any, after: Any) -> dict[str, Any]:
        return {"setting": self.setting, "target": self.target, "before": before, "after": after}


def _run_set(engine: _Engine, step: SetStep, context: dict[str, Any]) -> _Outcome:
    """Read → equal: ok → check mode: changed, nothing written → write, read back, verify."""
    spec = SETTINGS[step.setting]
    target = _line(step.target.render(context), "target") if step.target else None
    change = _Change(step.name, step.setting, target, _line(step.value.render(context), "value"),
                     spec.write_only)
    if spec.write_only:
        return _set_write_only(engine, change, Secret(change.value))
    if spec.values and change.value not in spec.values:
        return _error(f"{change.value!r} is not a value of {step.setting} "
                      f"(values: {', '.join(spec.values)}); nothing written")
    try:
        before = engine.driver.read_setting(change.setting, change.target)
    except _PBX_ANSWER_ERRORS as exc:
        return _error(f"cannot read {change.label} before changing it: {exc}; nothing written")
    except NotImplementedError as exc:
        return _error(f"cannot change {change.label}: {exc}; nothing written")
    if before is None:
        return _error(f"{change.label} read back as nothing: no value to restore, so nothing "
                      "is written")
    return _change(engine, change, before)


def _change(engine: _Engine, change: _Change, before: str) -> _Outcome:
    diff = change.diff(before, change.value)
    unchanged = _same(change.setting, change.value, before, 0.0)
    value = {"changed": not unchanged, "before": before, "after": change.value}
    if unchanged:
        return _Outcome(StepStatus.OK, f"{change.label} is already {before!r}: nothing written",
                        value)
    if not engine.options.apply:
        return _Outcome(StepStatus.CHANGED, f"check mode: would change {change.label} from "
                        f"{before!r} to {change.value!r}; nothing written", value, diff=diff)
    read_at = time.monotonic()
    with _line_watch(engine, change, before):
        problem = _write_and_verify(engine, change, change.value)
        if problem is None:
            return _Outcome(StepStatus.CHANGED, f"{change.label}: {before!r} → "
                            f"{change.value!r} (read back and verified)", value, diff=diff)
        return _roll_back(engine, change, _restore_value(change, before, read_at), problem,
                          diff)


#: A clock read back a moment after it was written has moved on: this much is "equal".
CLOCK_SLACK_S = 5.0


def _same(setting: str, wanted: str, got: str | None, elapsed_s: float) -> bool:
    """Equal values; for the clock, equal within the slack plus the time since writing."""
    if setting != "clock" or got is None:
        return wanted == got
    try:
        gap = abs((datetime.fromisoformat(got) - datetime.fromisoformat(wanted))
                  .total_seconds())
    except (TypeError, ValueError):
        return False
    return gap <= CLOCK_SLACK_S + elapsed_s


def _restore_value(change: _Change, before: str, read_at: float) -> str:
    """What "the old value" is now: the old clock has kept running since we read it."""
    if change.setting != "clock":
        return before
    try:
        moved = datetime.fromisoformat(before) + timedelta(seconds=time.monotonic() - read_at)
    except ValueError:
        return before
    return moved.isoformat(timespec="seconds")


def _write_and_verify(engine: _Engine, change: _Change, value: str) -> str | None:
    """None when the PBX holds ``value`` afterwards, else what went wrong."""
    written = time.monotonic()
    try:
        engine.driver.write_setting(change.setting, value, change.target)
        got = engine.driver.read_setting(change.setting, change.target)
    except (*_PBX_ANSWER_ERRORS, NotImplementedError) as exc:
        return f"write of {value!r} failed: {exc}"
    if _same(change.setting, value, got, time.monotonic() - written):
        return None
    return f"wrote {value!r} but read back {got!r}"


def _roll_back(engine: _Engine, change: _Change, before: str, problem: str,
               diff: dict[str, Any]) -> _Outcome:
    """Put the old value back (only if it is not still there) and verify that it is."""
    try:
        now: str | None = engine.driver.read_setting(change.setting, change.target)
    except (*_PBX_ANSWER_ERRORS, NotImplementedError) as exc:
        now = f"<unreadable: {exc}>"
    if _same(change.setting, before, now, 0.0):
        return _Outcome(StepStatus.FAILED, f"{change.label}: {problem}; the PBX still holds "
                        f"{before!r} (verified), nothing to roll back", diff=diff)
    restore_problem = _write_and_verify(engine, change, before)
    rollback = change.diff(now, before if restore_problem is None else "<unknown>")
    if restore_problem is None:
        return _Outcome(StepStatus.FAILED, f"{change.label}: {problem}; rolled back to "
                        f"{before!r} (verified)", diff=diff, rollback=rollback)
    return _half_programmed(engine, f"{change.label} should be back at {before!r}: {problem}; "
                            f"then the rollback failed: {restore_problem}", diff, rollback)


def _half_programmed(engine: _Engine, detail: str, diff: dict[str, Any] | None,
                     rollback: dict[str, Any] | None) -> _Outcome:
    """The loudest result there is: the run stops and the RunResult carries the flag."""
    engine.run.half_programmed = True
    engine.stopped = "skipped: the PBX was left half-programmed"
    message = f"PBX LEFT HALF-PROGRAMMED: {detail}"
    engine.logger.error("pbx.half_programmed", detail=REDACTOR.scrub(detail))
    return _Outcome(StepStatus.ERROR, message, diff=diff, rollback=rollback)


@contextmanager
def _line_watch(engine: _Engine, change: _Change, before: str) -> Iterator[None]:
    """A line lost mid-change leaves the PBX in an unknown state: say so, then propagate."""
    try:
        yield
    except ConnectionProblem as exc:
        outcome = _half_programmed(engine, f"the line was lost while changing {change.label} "
                                   f"from {before!r} to {change.shown!r} ({exc}); check it "
                                   "by hand", None, None)
        engine.run.steps.append(StepResult(
            name=change.step_name, status=outcome.status,
            message=REDACTOR.scrub(outcome.message), action="set", attempts=1))
        raise


def _set_write_only(engine: _Engine, change: _Change, secret: Secret) -> _Outcome:
    """A PIN: it cannot be read back, so write it, say so, and never record the value."""
    diff = change.diff(None, MASK)
    value = {"changed": True, "before": None, "after": MASK}
    if not engine.options.apply:
        return _Outcome(StepStatus.CHANGED, f"check mode: would write {change.label} "
                        "(write-only, not shown); nothing written", value, diff=diff)
    try:
        with _line_watch(engine, change, MASK):
            engine.driver.write_setting(change.setting, secret.reveal(), change.target)
    except (*_PBX_ANSWER_ERRORS, NotImplementedError) as exc:
        return _Outcome(StepStatus.FAILED, f"write of {change.label} failed: {exc}", diff=diff)
    return _Outcome(StepStatus.CHANGED, f"wrote {change.label} (write-only: cannot be read "
                    "back)", value, diff=diff)


# --- dispatch ----------------------------------------------------------------------------

StepHandler = Callable[[_Engine, Any, dict[str, Any]], _Outcome]

#: Step class → handler (include is not here: the engine expands it in place).
_HANDLERS: dict[type[Step], StepHandler] = {
    GetStep: _run_get,
    ReadStep: _run_read,
    CommandStep: _run_command,
    SetStep: _run_set,
    AskStep: _run_ask,
    WaitStep: _run_wait,
    BackupStep: _run_backup,
}


def handled_actions() -> Iterator[str]:
    """Action keys the engine runs (the loader's builders must match, plus include)."""
    return (cls.action for cls in _HANDLERS)
