"""Scheduled jobs: what cron runs, written down once instead of in a crontab line.

A job file names a playbook, an inventory, the sites, variables, and whether it may
program the PBXs (``apply: true``). Without ``apply`` a job is read-only, exactly like
``pbxdiag run`` without ``--apply``: a playbook's ``set`` steps only show their diff.
Paths are relative to the job file. ``executor: celery`` with a ``broker`` runs the job's
fleet on the queue (docs/scale.md): the nightly run of every site is then one command from
cron or a systemd timer on whichever host runs it, and the workers dial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent import yamlsource
from agent.errors import InputError

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pbxdiag scheduled job",
    "type": "object",
    "additionalProperties": False,
    "required": ["playbook", "inventory"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "playbook": {"type": "string", "minLength": 1},
        "inventory": {"type": "string", "minLength": 1},
        "sites": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "vars": {"type": "object"},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "apply": {"type": "boolean"},
        "concurrency": {"type": "integer", "minimum": 1, "maximum": 500},
        "executor": {"enum": ["local", "celery"]},
        "broker": {"type": "string", "minLength": 1, "maxLength": 2048},
    },
    "if": {"properties": {"executor": {"const": "celery"}}, "required": ["executor"]},
    "then": {"required": ["broker"]},
}


class JobError(InputError):
    """The scheduled-job file does not parse or validate."""


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    path: Path
    name: str
    playbook: Path
    inventory: Path
    sites: tuple[str, ...] | None = None  # None: every site in the inventory
    vars: dict[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    apply: bool = False
    concurrency: int = 8
    executor: str = "local"
    broker: str | None = None


def load_job(path: Path) -> ScheduledJob:
    source = yamlsource.load(path, JobError)
    yamlsource.validate(source, SCHEMA, JobError)
    data: dict[str, Any] = source.data
    base = path.parent
    return ScheduledJob(
        path=path,
        name=data.get("name", path.stem),
        playbook=_relative(base, data["playbook"]),
        inventory=_relative(base, data["inventory"]),
        sites=tuple(data["sites"]) if "sites" in data else None,
        vars=dict(data.get("vars") or {}),
        tags=frozenset(data.get("tags") or ()),
        apply=bool(data.get("apply", False)),
        concurrency=int(data.get("concurrency", 8)),
        executor=str(data.get("executor", "local")),
        broker=data.get("broker"),
    )


def _relative(base: Path, value: str) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate
