"""``get``: read one driver getter and assert on its answer (``since`` for histories)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, ClassVar

from agent.playbook.compiling import StepSite
from agent.playbook.expressions import Expression, ExpressionError
from agent.playbook.kinds import StepKind
from agent.playbook.model import Step
from agent.playbook.runtime import (
    PBX_ANSWER_ERRORS,
    Outcome,
    StepRun,
    pbx_now,
    reply_error,
    unsupported,
)
from agent.result import StepStatus
from drivers.base import SINCE_GETTERS
from drivers.model import to_jsonable

_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True, slots=True, kw_only=True)
class GetStep(Step):
    """Read one driver getter and assert on its answer."""

    action: ClassVar[str] = "get"

    get: str
    since: Expression | None = None  # only for getters that take ``since``

    @property
    def getter(self) -> str | None:
        return self.get


SCHEMA = {
    "properties": {
        "get": {"$ref": "#/$defs/getter", "description": "Action: read a driver getter."},
        "since": {
            "$ref": "#/$defs/expression",
            "description": "With get: error_log / call_records: only entries from this time "
                           "(ISO 8601 PBX local time, or 30m / 24h / 7d back); null reads all.",
        },
    },
    "dependentRequired": {"since": ["get"]},
}


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> GetStep | None:
    since = None
    if "since" in raw:
        if raw["get"] not in SINCE_GETTERS:
            takes = ", ".join(sorted(SINCE_GETTERS))
            site.problem(f'"since" {site.within()} only works with getters that keep a '
                         f'history ({takes}), not "{raw["get"]}"', "since", key=True)
            return None
        since = site.expression(raw["since"], "since")
        if since is None:
            return None
    return GetStep(get=raw["get"], since=since, **common)


def run(step: GetStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
    """Read the getter (only what is new, with ``since``) and keep the answer as evidence."""
    params = {}
    if step.since is not None:
        since = _since(step.since.evaluate(context), ctx.options.timezone)
        if since is not None:
            params["since"] = since
    try:
        value = ctx.driver.get(step.get, **params)
    except PBX_ANSWER_ERRORS as exc:
        return reply_error(f"{step.get}: {exc}", exc)
    except NotImplementedError as exc:
        return unsupported(ctx.driver, exc)
    data = to_jsonable(value)
    ctx.run.facts[step.get] = data
    suffix = f" since {params['since']:%Y-%m-%d %H:%M}" if params else ""
    return Outcome(StepStatus.OK, f"read {step.get}{suffix}", data)


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
            return pbx_now(zone).replace(microsecond=0) - timedelta(**{unit: amount})
        try:
            return _since(datetime.fromisoformat(value.strip()), zone)
        except ValueError:
            pass
    raise ExpressionError(f"since must be an ISO 8601 time or like 30m, 24h, 7d; "
                          f"got {value!r}")


KIND = StepKind(name="get", model=GetStep, schema=SCHEMA, build=build, run=run,
                diagnostic=True, rank=10)
