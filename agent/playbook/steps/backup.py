"""``backup``: take the driver's backup of all programming data (read-only)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.playbook.compiling import StepSite
from agent.playbook.kinds import StepKind
from agent.playbook.model import Playbook, Step
from agent.playbook.runtime import (
    PBX_ANSWER_ERRORS,
    Outcome,
    StepRun,
    reply_error,
    unsupported,
)
from agent.result import StepStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupStep(Step):
    """Take the driver's backup of all programming data (read-only)."""

    action: ClassVar[str] = "backup"

    #: The fact the text is kept under: ``backup``, or ``backup_before_changes`` for the one
    #: taken before an ``--apply`` run (both go to the site's backup history).
    fact: str = "backup"


SCHEMA = {
    "properties": {
        "backup": {"const": True, "description": "Action: back up the programming data."},
    },
}


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> BackupStep:
    return BackupStep(**common)


def run(step: BackupStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
    try:
        text = ctx.driver.backup()
    except PBX_ANSWER_ERRORS as exc:
        return reply_error(f"backup: {exc}", exc)
    except NotImplementedError as exc:
        return unsupported(ctx.driver, exc)
    ctx.run.facts[step.fact] = text
    lines = len(text.splitlines())
    return Outcome(StepStatus.OK, f"backup taken: {lines} setting{'s' * (lines != 1)}", text)


BEFORE_CHANGES = "backup_before_changes"


def backup_before_changes(playbook: Playbook, apply: bool) -> Playbook:
    """``playbook`` with a backup step first when it will program the PBX (``--apply``):
    whatever the changes do, the programming as it was is in the site's backup history."""
    if not apply or not playbook.has_changes:
        return playbook
    first = BackupStep(name="Backup before changes", fact=BEFORE_CHANGES, tags=("always",))
    return dataclasses.replace(playbook, steps=(first, *playbook.steps))


KIND = StepKind(name="backup", model=BackupStep, schema=SCHEMA, build=build, run=run,
                diagnostic=False, rank=70,
                not_with=frozenset({"retries", "delay", "until", "loop", "loop_var"}))
