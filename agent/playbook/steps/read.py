"""``read``: read one programmed setting (``drivers.base.SETTINGS``) without changing it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.playbook.compiling import StepSite
from agent.playbook.expressions import Template
from agent.playbook.kinds import StepKind
from agent.playbook.model import Step
from agent.playbook.runtime import (
    PBX_ANSWER_ERRORS,
    Outcome,
    StepRun,
    one_line,
    reply_error,
    setting_label,
    unsupported,
)
from agent.result import StepStatus
from drivers.base import SETTINGS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadStep(Step):
    """Read one programmed setting (``drivers.base.SETTINGS``) without changing it."""

    action: ClassVar[str] = "read"

    setting: str
    target: Template | None = None


SCHEMA = {
    "properties": {
        "read": {"$ref": "#/$defs/setting_ref", "description": "Action: read a setting."},
    },
    "$defs": {
        "setting_ref": {
            "type": "object",
            "additionalProperties": False,
            "required": ["setting"],
            "properties": {
                "setting": {"$ref": "#/$defs/setting"},
                "target": {"$ref": "#/$defs/template",
                           "description": "The extension or trunk, when the setting has one."},
            },
        },
    },
}


def setting_target(spec: Mapping[str, Any], site: StepSite) -> tuple[bool, Template | None]:
    """(fine?, compiled target or None): a target exactly when the setting is addressed.

    ``site`` is the action's mapping (``read:`` or ``set:``); ``set`` shares this check."""
    setting = SETTINGS[spec["setting"]]
    if setting.target and "target" not in spec:
        site.problem(f'setting "{setting.key}" needs a target (the {setting.target}) '
                     f"{site.within()}")
        return False, None
    if not setting.target and "target" in spec:
        site.problem(f'setting "{setting.key}" has no target; remove "target"', "target",
                     key=True)
        return False, None
    if "target" not in spec:
        return True, None
    target = site.template(spec["target"], "target")
    return target is not None, target


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> ReadStep | None:
    spec = raw["read"]
    if SETTINGS[spec["setting"]].write_only:
        site.problem(f'setting "{spec["setting"]}" is write-only: it cannot be read back',
                     "read", "setting")
        return None
    ok, target = setting_target(spec, site.child("read"))
    return ReadStep(setting=spec["setting"], target=target, **common) if ok else None


def run(step: ReadStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
    target = one_line(step.target.render(context), "target") if step.target else None
    label = setting_label(step.setting, target)
    try:
        value = ctx.driver.read_setting(step.setting, target)
    except PBX_ANSWER_ERRORS as exc:
        return reply_error(f"{label}: {exc}", exc)
    except NotImplementedError as exc:
        return unsupported(ctx.driver, exc)
    ctx.run.facts.setdefault("settings", {})[label] = value
    return Outcome(StepStatus.OK, f"read {label}: {value!r}", value)


KIND = StepKind(name="read", model=ReadStep, schema=SCHEMA, build=build, run=run,
                diagnostic=True, rank=20)
