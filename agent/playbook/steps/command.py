"""``command``: send one raw console command in the vendor's own dialect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.playbook.compiling import StepSite
from agent.playbook.expressions import Template
from agent.playbook.kinds import StepKind
from agent.playbook.model import OutputPattern, Step
from agent.playbook.runtime import (
    PBX_ANSWER_ERRORS,
    Outcome,
    StepRun,
    one_line,
    reply_error,
    skipped,
    unsupported,
)
from agent.result import StepStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandStep(Step):
    """Send one raw console command in the vendor's own dialect."""

    action: ClassVar[str] = "command"

    commands: Mapping[str, Template]  # vendor → command text
    expect_output: tuple[OutputPattern, ...] = ()
    reject_output: tuple[OutputPattern, ...] = ()
    changes: bool = False  # the command programs the PBX: held back in check mode

    @property
    def changes_pbx(self) -> bool:
        return self.changes

    @property
    def for_vendors(self) -> tuple[str, ...]:
        """Per-vendor commands say which vendors they are for."""
        return self.vendors or tuple(self.commands)


SCHEMA = {
    "properties": {
        "command": {
            "type": ["string", "object"],
            "minLength": 1,
            "minProperties": 1,
            "propertyNames": {"$ref": "#/$defs/identifier"},
            "additionalProperties": {"$ref": "#/$defs/template"},
            "description": "Action: a raw console command, per vendor ({panasonic: ERR}) or "
                           "one string with vendors: [...].",
        },
        "expect_output": {"$ref": "#/$defs/patterns",
                          "description": "With command: every pattern must match the output."},
        "reject_output": {"$ref": "#/$defs/patterns",
                          "description": "With command: no pattern may match the output."},
        "changes": {"type": "boolean", "description": "With command: the command programs "
                                                      "the PBX (held back in check mode)."},
    },
    "$defs": {
        "patterns": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/text"},
            "description": "Regular expressions (Python re, searched anywhere, MULTILINE).",
        },
    },
    "dependentRequired": {
        "expect_output": ["command"],
        "reject_output": ["command"],
        "changes": ["command"],
    },
    # One string is one vendor's dialect: it must say which.
    "allOf": [{
        "if": {"properties": {"command": {"type": "string"}}, "required": ["command"]},
        "then": {"required": ["vendors"]},
    }],
}


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> CommandStep | None:
    command = raw["command"]
    if isinstance(command, Mapping):
        commands = {vendor: site.template(text, "command", vendor)
                    for vendor, text in command.items()}
    else:
        template = site.template(command, "command")
        commands = dict.fromkeys(raw["vendors"], template)
    expect_output = _patterns(raw, "expect_output", site)
    reject_output = _patterns(raw, "reject_output", site)
    if any(t is None for t in commands.values()) or expect_output is None \
            or reject_output is None:
        return None
    return CommandStep(commands={v: t for v, t in commands.items() if t is not None},
                       expect_output=expect_output, reject_output=reject_output,
                       changes=raw.get("changes", False), **common)


def _patterns(raw: Mapping[str, Any], key: str, site: StepSite
              ) -> tuple[OutputPattern, ...] | None:
    patterns = []
    for number, text in enumerate(raw.get(key, [])):
        try:
            patterns.append(OutputPattern(text, re.compile(text, re.MULTILINE)))
        except re.error as exc:
            site.problem(f"bad regular expression in {site.describe(key, number)}: {exc}",
                         key, number)
            return None
    return tuple(patterns)


def run(step: CommandStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
    """Send a raw command; the output must match ``expect_output`` and not ``reject_output``."""
    text = one_line(step.commands[ctx.driver.vendor].render(context), "command")
    if step.changes and not ctx.options.apply:
        return skipped(f"check mode: {text!r} not sent (it changes the PBX; use --apply)")
    try:
        ctx.write_started = step.changes
        output = ctx.driver.run_command(text)
    except PBX_ANSWER_ERRORS as exc:
        return reply_error(str(exc), exc)
    except NotImplementedError as exc:
        return unsupported(ctx.driver, exc)
    status = StepStatus.CHANGED if step.changes else StepStatus.OK
    problems = [f"output does not match /{p.source}/" for p in step.expect_output
                if not p.found_in(output)]
    problems += [f"output matches /{p.source}/" for p in step.reject_output if p.found_in(output)]
    if problems:
        return Outcome(StepStatus.FAILED, f"{text}: " + "; ".join(problems), output,
                       output=output)
    return Outcome(status, f"sent {text!r}", output, output=output)


KIND = StepKind(name="command", model=CommandStep, schema=SCHEMA, build=build, run=run,
                diagnostic=True, rank=30)
