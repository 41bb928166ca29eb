"""``set``: change one setting — read, compare, write, read back, roll back on mismatch.

Programming changes are safe by construction: nothing is written unless the caller
passed ``apply``; every write is read back, a mismatch is rolled back and the rollback
verified, and a failed rollback stops the run with ``run.half_programmed`` set.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from agent.errors import ConnectionProblem
from agent.line.secrets import MASK, REDACTOR, Secret
from agent.playbook.compiling import StepSite
from agent.playbook.expressions import Template
from agent.playbook.kinds import StepKind
from agent.playbook.model import Step
from agent.playbook.runtime import (
    PBX_ANSWER_ERRORS,
    Outcome,
    StepRun,
    error,
    one_line,
    reply_error,
    setting_label,
)
from agent.playbook.steps.read import setting_target
from agent.result import StepResult, StepStatus
from drivers.base import SETTINGS


@dataclass(frozen=True, slots=True, kw_only=True)
class SetStep(Step):
    """Change one setting: read, compare, write, read back, roll back on mismatch."""

    action: ClassVar[str] = "set"

    setting: str
    value: Template
    target: Template | None = None

    @property
    def changes_pbx(self) -> bool:
        return True


SCHEMA = {
    "properties": {
        "set": {"$ref": "#/$defs/set", "description": "Action: change a setting (needs --apply)."},
    },
    "$defs": {
        "set": {
            "type": "object",
            "additionalProperties": False,
            "required": ["setting", "value"],
            "properties": {
                "setting": {"$ref": "#/$defs/setting"},
                "target": {"$ref": "#/$defs/template"},
                "value": {"type": "string", "description": "The new value (a template; quote it)."},
            },
        },
    },
}


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> SetStep | None:
    spec = raw["set"]
    ok, target = setting_target(spec, site.child("set"))
    value = site.template(spec["value"], "set", "value")
    if not ok or value is None:
        return None
    allowed = SETTINGS[spec["setting"]].values
    if allowed and value.is_literal and value.source not in allowed:
        site.problem(f'"{value.source}" is not a value of setting "{spec["setting"]}" '
                     f"(values: {', '.join(allowed)})", "set", "value")
        return None
    return SetStep(setting=spec["setting"], target=target, value=value, **common)


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
        return setting_label(self.setting, self.target)

    def diff(self, before: Any, after: Any) -> dict[str, Any]:
        return {"setting": self.setting, "target": self.target, "before": before, "after": after}


def run(step: SetStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
    """Read → equal: ok → check mode: changed, nothing written → write, read back, verify."""
    spec = SETTINGS[step.setting]
    target = one_line(step.target.render(context), "target") if step.target else None
    change = _Change(step.name, step.setting, target, one_line(step.value.render(context), "value"),
                     spec.write_only)
    if spec.write_only:
        return _set_write_only(ctx, change, Secret(change.value))
    if spec.values and change.value not in spec.values:
        return error(f"{change.value!r} is not a value of {step.setting} "
                      f"(values: {', '.join(spec.values)}); nothing written")
    try:
        before = ctx.driver.read_setting(change.setting, change.target)
    except PBX_ANSWER_ERRORS as exc:
        return reply_error(f"cannot read {change.label} before changing it: {exc}; nothing "
                           "written", exc)
    except NotImplementedError as exc:
        return error(f"cannot change {change.label}: {exc}; nothing written")
    if before is None:
        return error(f"{change.label} read back as nothing: no value to restore, so nothing "
                      "is written")
    return _change(ctx, change, before)


def _change(ctx: StepRun, change: _Change, before: str) -> Outcome:
    diff = change.diff(before, change.value)
    unchanged = _same(change.setting, change.value, before, 0.0)
    value = {"changed": not unchanged, "before": before, "after": change.value}
    if unchanged:
        return Outcome(StepStatus.OK, f"{change.label} is already {before!r}: nothing written",
                        value)
    if not ctx.options.apply:
        return Outcome(StepStatus.CHANGED, f"check mode: would change {change.label} from "
                        f"{before!r} to {change.value!r}; nothing written", value, diff=diff)
    read_at = time.monotonic()
    with _line_watch(ctx, change, before):
        problem = _write_and_verify(ctx, change, change.value)
        if problem is None:
            return Outcome(StepStatus.CHANGED, f"{change.label}: {before!r} → "
                            f"{change.value!r} (read back and verified)", value, diff=diff)
        return _roll_back(ctx, change, _restore_value(change, before, read_at), problem,
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


def _write_and_verify(ctx: StepRun, change: _Change, value: str) -> str | None:
    """None when the PBX holds ``value`` afterwards, else what went wrong."""
    written = time.monotonic()
    try:
        ctx.write_started = True
        ctx.driver.write_setting(change.setting, value, change.target)
        got = ctx.driver.read_setting(change.setting, change.target)
    except (*PBX_ANSWER_ERRORS, NotImplementedError) as exc:
        return f"write of {value!r} failed: {exc}"
    if _same(change.setting, value, got, time.monotonic() - written):
        return None
    return f"wrote {value!r} but read back {got!r}"


def _roll_back(ctx: StepRun, change: _Change, before: str, problem: str,
               diff: dict[str, Any]) -> Outcome:
    """Put the old value back (only if it is not still there) and verify that it is."""
    try:
        now: str | None = ctx.driver.read_setting(change.setting, change.target)
    except (*PBX_ANSWER_ERRORS, NotImplementedError) as exc:
        now = f"<unreadable: {exc}>"
    if _same(change.setting, before, now, 0.0):
        return Outcome(StepStatus.FAILED, f"{change.label}: {problem}; the PBX still holds "
                        f"{before!r} (verified), nothing to roll back", diff=diff)
    restore_problem = _write_and_verify(ctx, change, before)
    rollback = change.diff(now, before if restore_problem is None else "<unknown>")
    if restore_problem is None:
        return Outcome(StepStatus.FAILED, f"{change.label}: {problem}; rolled back to "
                        f"{before!r} (verified)", diff=diff, rollback=rollback)
    return _half_programmed(ctx, f"{change.label} should be back at {before!r}: {problem}; "
                            f"then the rollback failed: {restore_problem}", diff, rollback)


def _half_programmed(ctx: StepRun, detail: str, diff: dict[str, Any] | None,
                     rollback: dict[str, Any] | None) -> Outcome:
    """The loudest result there is: the run stops and the RunResult carries the flag."""
    ctx.run.half_programmed = True
    ctx.stopped = "skipped: the PBX was left half-programmed"
    message = f"PBX LEFT HALF-PROGRAMMED: {detail}"
    ctx.logger.error("pbx.half_programmed", detail=REDACTOR.scrub(detail))
    return Outcome(StepStatus.ERROR, message, diff=diff, rollback=rollback)


@contextmanager
def _line_watch(ctx: StepRun, change: _Change, before: str) -> Iterator[None]:
    """A line lost mid-change leaves the PBX in an unknown state: say so, then propagate."""
    try:
        yield
    except ConnectionProblem as exc:
        outcome = _half_programmed(ctx, f"the line was lost while changing {change.label} "
                                   f"from {before!r} to {change.shown!r} ({exc}); check it "
                                   "by hand", None, None)
        ctx.run.steps.append(StepResult(
            name=change.step_name, status=outcome.status,
            message=REDACTOR.scrub(outcome.message), action="set", attempts=1))
        raise


def _set_write_only(ctx: StepRun, change: _Change, secret: Secret) -> Outcome:
    """A PIN: it cannot be read back, so write it, say so, and never record the value."""
    diff = change.diff(None, MASK)
    value = {"changed": True, "before": None, "after": MASK}
    if not ctx.options.apply:
        return Outcome(StepStatus.CHANGED, f"check mode: would write {change.label} "
                        "(write-only, not shown); nothing written", value, diff=diff)
    try:
        with _line_watch(ctx, change, MASK):
            ctx.write_started = True
            ctx.driver.write_setting(change.setting, secret.reveal(), change.target)
    except (*PBX_ANSWER_ERRORS, NotImplementedError) as exc:
        return Outcome(StepStatus.FAILED, f"write of {change.label} failed: {exc}", diff=diff)
    return Outcome(StepStatus.CHANGED, f"wrote {change.label} (write-only: cannot be read "
                    "back)", value, diff=diff)


KIND = StepKind(name="set", model=SetStep, schema=SCHEMA, build=build, run=run,
                diagnostic=False, rank=40, not_with=frozenset({"retries", "delay", "until"}),
                why_not="a programming change is never repeated blindly")
