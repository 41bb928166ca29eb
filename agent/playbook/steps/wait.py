"""``wait``: poll a getter until a condition holds or the timeout passes.

Polling is the one place an interval is legitimate: a PBX has no way to tell us that a
card came back. Every pause is ``stop.wait(interval)`` against one deadline, never a sleep.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.playbook.compiling import StepSite
from agent.playbook.expressions import Expression
from agent.playbook.kinds import StepKind
from agent.playbook.model import Step
from agent.playbook.runtime import PBX_ANSWER_ERRORS, Outcome, StepRun, unsupported
from agent.result import StepStatus
from drivers.model import to_jsonable


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitStep(Step):
    """Poll a getter until a condition holds or the timeout passes."""

    action: ClassVar[str] = "wait"

    get: str
    condition: Expression  # ``wait.until``
    timeout: float
    interval: float = 5.0

    @property
    def getter(self) -> str | None:
        return self.get


SCHEMA = {
    "properties": {
        "wait": {"$ref": "#/$defs/wait",
                 "description": "Action: poll a getter until a condition holds."},
    },
    "$defs": {
        "seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
        "wait": {
            "type": "object",
            "additionalProperties": False,
            "required": ["get", "until", "timeout"],
            "properties": {
                "get": {"$ref": "#/$defs/getter"},
                "until": {"$ref": "#/$defs/expression"},
                "timeout": {"$ref": "#/$defs/seconds"},
                "interval": {"$ref": "#/$defs/seconds",
                             "description": "Seconds between polls (default 5)."},
            },
        },
    },
}


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> WaitStep | None:
    spec = raw["wait"]
    condition = site.expression(spec["until"], "wait", "until")
    if condition is None:
        return None
    interval = float(spec.get("interval", 5.0))
    if interval > spec["timeout"]:
        site.problem(f"the interval ({interval:g}s) is longer than the timeout "
                     f"({spec['timeout']:g}s)", "wait", "interval")
        return None
    return WaitStep(get=spec["get"], condition=condition, timeout=float(spec["timeout"]),
                    interval=interval, **common)


def run(step: WaitStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
    """Poll until the condition holds; a getter error while waiting (a card mid-restart)
    is polled past."""
    deadline = time.monotonic() + step.timeout
    polls, last, problem = 0, None, ""
    while True:
        polls += 1
        try:
            last = to_jsonable(ctx.driver.get(step.get))
            ctx.run.facts[step.get] = last
            if step.condition.is_true({**context, "result": last}):
                return Outcome(StepStatus.OK, f"{step.condition.source} after {polls} "
                               f"poll{'s' * (polls > 1)}", last, attempts=polls)
        except PBX_ANSWER_ERRORS as exc:
            problem = f"; last poll: {exc}"
        except NotImplementedError as exc:
            return unsupported(ctx.driver, exc)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(StepStatus.FAILED, f"still not {step.condition.source} after "
                           f"{step.timeout:g}s ({polls} polls){problem}", last, attempts=polls)
        ctx.pause(min(step.interval, remaining))


KIND = StepKind(name="wait", model=WaitStep, schema=SCHEMA, build=build, run=run,
                diagnostic=True, rank=60, not_with=frozenset({"retries", "delay", "until"}),
                why_not="wait polls by itself (timeout, interval)")
