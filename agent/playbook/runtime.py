"""What a step kind's handler works with at run time: the driver, the run, the options.

Handlers return an :class:`Outcome`; the engine records it. Errors are sorted three
ways: a failed check is data (``failed``), a PBX that refuses or garbles one answer
spoils only that step (``error``, see :data:`PBX_ANSWER_ERRORS`), and a lost line ends
the run (a ``ConnectionProblem`` propagates, for the runner to record).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Protocol

from agent.errors import CommandRejected, InputError, ParseError
from agent.playbook.answers import Asker
from agent.playbook.expressions import ExpressionError, Template
from agent.result import ErrorCause, RunResult, StepStatus

#: What a PBX may answer badly without the run ending: the step becomes ``error``.
PBX_ANSWER_ERRORS = (CommandRejected, ParseError, InputError)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
class Progress:
    """What a run is doing now, for a caller that shows it (a terminal, a fleet's bar).

    ``kind`` is ``"path"`` (the runner is trying a path to the PBX: ``name`` is its URL,
    credentials masked) or ``"step"`` (a step's action starts: ``name`` is the step's name,
    with the loop item). The engine only calls the hook; what a terminal shows is the
    command's business (agent/reports/progress.py), so the engine holds no terminal code.
    """

    kind: str
    name: str
    site: str


#: Called as the run goes; it must be quick and never raise (it runs on the run's thread).
ProgressHook = Callable[[Progress], None]


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
    progress: ProgressHook | None = None  # told each path tried and each step started


@dataclass(slots=True)
class Outcome:
    """What one run of a step's action found; ``value`` is what ``register`` keeps."""

    status: StepStatus
    message: str
    value: Any = None
    failed_expectations: list[str] = field(default_factory=list)
    attempts: int = 1
    diff: dict[str, Any] | None = None
    rollback: dict[str, Any] | None = None
    output: str | None = None
    cause: ErrorCause | None = None


def skipped(reason: str) -> Outcome:
    return Outcome(StepStatus.SKIPPED, reason, attempts=0)


def error(message: str, cause: ErrorCause = ErrorCause.INPUT) -> Outcome:
    """A step that could not do its job; by default for a reason of ours (bad input)."""
    return Outcome(StepStatus.ERROR, message, cause=cause)


def reply_error(message: str, exc: Exception) -> Outcome:
    """The PBX refused or garbled an answer — unless the exception says the request was
    ours to get right (an unknown setting, a bad parameter): then it is bad input."""
    ours = isinstance(exc, InputError)
    return error(message, ErrorCause.INPUT if ours else ErrorCause.REPLY)


def unsupported(driver: GetterSource, exc: NotImplementedError) -> Outcome:
    """A check this driver cannot make yet is not a fault of the PBX: skipped, with why."""
    vendor = getattr(driver, "vendor", "this")
    return skipped(f"not supported by the {vendor} driver: {exc}")


class Interrupted(Exception):
    """The caller set ``stop`` during a pause."""


@dataclass(slots=True)
class StepRun:
    """One run's state as handlers see it: registered values, answers, why it stopped."""

    driver: GetterSource
    run: RunResult
    options: RunOptions
    logger: Any
    answers: dict[str, Any] = field(default_factory=dict)
    #: Set when the run must not go on (a step with continue_on_failure: false failed, or
    #: the PBX was left half-programmed): the skip reason of every later step.
    stopped: str | None = None
    #: Set by a handler just before it sends a write: an exception after that point may
    #: have left the change on the PBX (the engine then flags the run half-programmed).
    write_started: bool = False

    def tell(self, kind: str, name: str) -> None:
        """Tell the caller's progress hook (if any) what starts now."""
        if self.options.progress is not None:
            self.options.progress(Progress(kind, name, self.run.site))

    def pause(self, seconds: float) -> None:
        """Wait without sleeping blind: a cancelled run wakes at once."""
        if self.options.stop.wait(seconds):
            raise Interrupted


def one_line(text: str, what: str) -> str:
    """Text bound for the PBX's console is one line: a CR would smuggle in a second command."""
    if _CONTROL.search(text):
        raise ExpressionError(f"the {what} contains a line break or control character: refused")
    return text


def setting_label(setting: str, target: str | None) -> str:
    return f"{setting} {target}" if target else setting


def render_data(value: Any, context: Mapping[str, Any]) -> Any:
    """Plain data with its templates rendered (vars, loop items)."""
    if isinstance(value, Template):
        return value.render(context)
    if isinstance(value, Mapping):
        return {key: render_data(child, context) for key, child in value.items()}
    if isinstance(value, list):
        return [render_data(child, context) for child in value]
    return value


def pbx_now(zone: tzinfo | None) -> datetime:
    """PBX-local wall time (no zone), which is how PBXs print and take times."""
    return datetime.now(zone).replace(tzinfo=None) if zone else datetime.now()
