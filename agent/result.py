"""RunResult: the one record every consumer (tickets, reports, the CLI) reads.

It is written once per run, as JSON, atomically; nothing downstream talks to the PBX, so
everything a consumer may need (getter answers, hints, bytes on the line) lives here.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from drivers.model import to_jsonable


class StepStatus(StrEnum):
    OK = "ok"
    CHANGED = "changed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


class ErrorCause(StrEnum):
    """Whose fault an ``error`` step is: it decides the exit code, and none is evidence."""

    INPUT = "input"  # ours: an expression, a var, an answer, a value no setting takes
    REPLY = "reply"  # the PBX's answer was refused, garbled or unreadable (or the line's)
    INTERNAL = "internal"  # a bug of pbxdiag's: an exception nobody expected
    INTERRUPTED = "interrupted"  # Ctrl-C or a fleet shutting down


#: The step kinds that program the PBX.
CHANGE_ACTIONS = frozenset({"set"})


class RunStatus(StrEnum):
    PASSED = "passed"  # every check ok
    FAILED = "failed"  # the PBX was diagnosed and at least one check failed
    UNREACHABLE = "unreachable"  # we never got a working console
    ERROR = "error"  # the run broke part-way (line dropped, timeout)


@dataclass(slots=True)
class FailureHint:
    """A playbook's ``on_failure``: which priority a failed step means, in words."""

    priority: str | None = None  # "P1" | "P2" | "P3"
    summary: str | None = None


@dataclass(slots=True)
class StepResult:
    name: str
    status: StepStatus
    message: str = ""
    getter: str | None = None
    failed_expectations: list[str] = field(default_factory=list)
    on_failure: FailureHint | None = None
    started_at: datetime | None = None
    duration_s: float = 0.0
    #: The step's action key (get, read, command, set, ask, wait, backup).
    action: str | None = None
    #: How many times the action ran: 0 when skipped, >1 with retries or a wait's polls.
    attempts: int = 0
    #: A setting change: {"setting", "target", "before", "after"} (a write-only value masked).
    diff: dict[str, Any] | None = None
    #: After a failed change: what the PBX held ("before") and what was restored ("after").
    rollback: dict[str, Any] | None = None
    #: A raw command's output (secrets redacted).
    output: str | None = None
    #: The loop item this result is for (None outside a loop).
    item: Any = None
    #: For an ``error`` step: whose fault it is (see :class:`ErrorCause`).
    cause: ErrorCause | None = None

    @property
    def failed_change(self) -> bool:
        """A programming change the PBX refused, or that did not verify — not one that
        our own input spoilt before anything was sent (that is bad input)."""
        if self.action not in CHANGE_ACTIONS:
            return False
        return self.status is StepStatus.FAILED or (
            self.status is StepStatus.ERROR and self.cause is not ErrorCause.INPUT)


@dataclass(slots=True)
class PathAttempt:
    """One connection path tried, with why it failed (``error`` empty when it was used)."""

    url: str
    error: str = ""
    #: The line reached the site: carrier, TCP connected, SSH authenticated.
    reached: bool = False
    #: ... and then the PBX itself sent nothing at all before the deadline or hang-up.
    pbx_silent: bool = False


@dataclass(slots=True)
class RunResult:
    run_id: str
    site: str
    playbook: str
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus = RunStatus.PASSED
    path: str | None = None
    paths_tried: list[PathAttempt] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    bytes_in: int = 0
    bytes_out: int = 0
    transcript: str | None = None
    error: str | None = None
    #: Front-line triage answers (e.g. ``power_cut``, ``surge``): recorded on the ticket.
    answers: dict[str, Any] = field(default_factory=dict)
    #: The playbook has programming changes and they were only shown, not made (no --apply).
    check_mode: bool = False
    #: A change failed AND its rollback failed: the PBX needs a human before anything else.
    half_programmed: bool = False
    #: Stopped by Ctrl-C (or SIGTERM) part-way: recorded, line released, nothing filed.
    interrupted: bool = False
    #: The site's vendor (its driver's name): classification asks that driver about cards.
    vendor: str | None = None

    @property
    def pbx_dead(self) -> bool:
        """Every path tried reached the site and the PBX never said a word on any: that
        silence is the PBX's evidence (``pbx-dead``). A path that did not reach the site
        (no carrier, refused, credentials refused) says nothing about the PBX."""
        return bool(self.paths_tried) and all(a.reached and a.pbx_silent
                                              for a in self.paths_tried)

    @property
    def programming(self) -> bool:
        """The playbook programs the PBX (it has a change step, run or not)."""
        return any(step.action in CHANGE_ACTIONS for step in self.steps)

    @property
    def failed_steps(self) -> list[StepResult]:
        return [s for s in self.steps if s.status in (StepStatus.FAILED, StepStatus.ERROR)]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = to_jsonable(asdict(self))
        return data

    def write(self, path: Path) -> Path:
        """Write atomically (temp file + rename): a crash never leaves half a result."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.to_json(), out, indent=2, sort_keys=True)
                out.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

