"""What a worker does with one job: its pool's paths, then the next pool or the register.

A job tries the paths of its site that belong to this worker's pool, starting at the
message's ``start``. When they all fail and the next path is in another pool, the job
goes on to that pool's queue with the same run id and the attempts so far; otherwise the
run ends here: it is filed (idempotently, by run id) and its row of the runs table is
completed. The worker reads the inventory and the logins itself: a message never carries
a secret.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import structlog

from agent.backups import store_run_backups
from agent.distributed.job import BadMessage, JobSpec, playbook_hash
from agent.distributed.locks import HoldLog, authority_for, holding, line_keys
from agent.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_UNREACHABLE, InputError
from agent.inventory import Inventory, Site, load_inventory
from agent.playbook import Playbook, RunOptions, load_playbook
from agent.playbook.steps.backup import backup_before_changes
from agent.result import RunResult, RunStatus
from agent.runner import PathHop, run_files, run_site
from agent.sitelock import LineInUse
from agent.tickets import Register
from agent.tickets.filing import file_run
from agent.tickets.storage.location import RegisterLocation
from agent.tickets.storage.runs import RunLog
from agent.verdict import run_exit_code

log = structlog.get_logger(__name__)

#: Send a job on to another pool's queue: (the job as it goes on, that pool).
Forward = Callable[[JobSpec, str], None]
_CACHE_LIMIT: Final = 16


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """This worker's own files: its inventory (and the logins it names), the register,
    the data dir (results, transcripts, lock files) and the log of line-lock holds."""

    inventory: Path
    register: RegisterLocation
    output: Path
    name: str
    hold_log: Path | None = None


def open_register(location: RegisterLocation) -> tuple[Register, RunLog]:
    """The register and the runs table at ``location`` (SQLite file or PostgreSQL)."""
    return Register(location), RunLog(location)


_inventories: dict[Path, tuple[int, Inventory]] = {}
_playbooks: dict[tuple[str, str], Playbook] = {}


def _inventory(path: Path) -> Inventory:
    """The inventory, read again when the file changed (a worker runs for weeks)."""
    stamp = os.stat(path).st_mtime_ns
    cached = _inventories.get(path)
    if cached is None or cached[0] != stamp:
        if len(_inventories) >= _CACHE_LIMIT:
            _inventories.clear()
        _inventories[path] = (stamp, load_inventory(path))
    return _inventories[path][1]


def _playbook(spec: JobSpec) -> Playbook:
    path = Path(spec.playbook)
    if playbook_hash(path) != spec.playbook_sha256:
        raise BadMessage(f"{path}: this worker's copy differs from the one submitted "
                         "(sha256); deploy the same playbooks to every worker host")
    key = (spec.playbook, spec.playbook_sha256)
    if key not in _playbooks:
        if len(_playbooks) >= _CACHE_LIMIT:
            _playbooks.clear()
        _playbooks[key] = load_playbook(path)
    return _playbooks[key]


class _Refused(Exception):
    """The job ends before dialling: how its row of the runs table ends."""

    def __init__(self, status: str, exit_code: int) -> None:
        super().__init__(status)
        self.status = status
        self.exit_code = exit_code


def run_job(spec: JobSpec, settings: WorkerSettings, forward: Forward) -> str:
    """Run one hop of a job; what happened, for the worker's log."""
    register, runs = open_register(settings.register)
    with register, runs:
        def finish(status: str, exit_code: int, path: str | None = None) -> str:
            runs.finished(run_id=spec.run_id, at=datetime.now(UTC), status=status,
                          exit_code=exit_code, path=path)
            return status

        try:
            site, playbook = _prepare(spec, settings)
            result, spent = _run_hop(spec, site, playbook, settings)
        except _Refused as refused:
            return finish(refused.status, refused.exit_code)
        moved = _next_hop(spec, site, result, spent)
        if moved is not None:
            forward(moved, site.pool_of(moved.start))
            log.info("job moved on to the next pool", site=site.id, run_id=spec.run_id,
                     pool=site.pool_of(moved.start))
            return "forwarded"
        try:
            store_run_backups(settings.output, result)
            filing = file_run(register, site, result)
        except Exception:
            log.exception("filing failed", site=site.id, run_id=spec.run_id)
            return finish("internal-error", EXIT_INTERNAL, result.path)
        return finish(result.status.value, run_exit_code(result, filing), result.path)


def finish_outlived(message: dict[str, Any], settings: WorkerSettings) -> None:
    """A job Celery killed at its hard time limit (its child process is gone): its row of
    the runs table ends as pbxdiag's own failure, so the submitter and the board see it
    ended rather than running forever. Nothing is filed: a killed run is no evidence. The
    line locks died with the child (its flock files and database connections)."""
    try:
        spec = JobSpec.from_json(message)
    except BadMessage as err:
        log.error("a job outlived its time limit; its message is unreadable", error=str(err))
        return
    log.error("job killed at its hard time limit", site=spec.site_id, run_id=spec.run_id)
    with RunLog(settings.register) as runs:
        runs.finished(run_id=spec.run_id, at=datetime.now(UTC), status="internal-error",
                      exit_code=EXIT_INTERNAL, path=None)


def _prepare(spec: JobSpec, settings: WorkerSettings) -> tuple[Site, Playbook]:
    """The site (from this worker's inventory) and the playbook (the same bytes as
    submitted), or why the job is refused before any line is held."""
    try:
        site = _inventory(settings.inventory).site(spec.site_id)
        site.check()
        playbook = _playbook(spec)
    except InputError as err:
        log.warning("job refused: bad configuration", site=spec.site_id,
                    run_id=spec.run_id, error=err.located())
        raise _Refused("refused", EXIT_BAD_INPUT) from None
    except (BadMessage, OSError) as err:
        log.error("job refused", site=spec.site_id, run_id=spec.run_id, error=str(err))
        raise _Refused("internal-error", EXIT_INTERNAL) from None
    if not 0 <= spec.start < len(site.paths):
        log.error("job names a path the site does not have", site=site.id, start=spec.start)
        raise _Refused("internal-error", EXIT_INTERNAL)
    return site, playbook


def _run_hop(spec: JobSpec, site: Site, playbook: Playbook,
             settings: WorkerSettings) -> tuple[RunResult, float]:
    """The hop's run under its line locks, and the seconds it took (of the reach time)."""
    paths = site.pool_run(spec.start)
    began = time.monotonic()
    try:
        result = _locked_run(spec, site, playbook, settings, paths)
    except LineInUse as err:
        log.warning("site busy: its line is held", site=site.id, error=str(err))
        raise _Refused("busy", EXIT_UNREACHABLE) from None
    except Exception:
        log.exception("job failed", site=site.id, run_id=spec.run_id)
        raise _Refused("internal-error", EXIT_INTERNAL) from None
    return result, time.monotonic() - began


def _locked_run(spec: JobSpec, site: Site, playbook: Playbook, settings: WorkerSettings,
                paths: range) -> RunResult:
    authority = authority_for(settings.register, settings.output, who=f"pbxdiag worker "
                              f"{settings.name}")
    hold_log = HoldLog(settings.hold_log, settings.name) if settings.hold_log else None
    options = RunOptions(apply=spec.apply, tags=frozenset(spec.tags))
    with holding(authority, line_keys(site, paths), run_id=spec.run_id,
                 wait=spec.line_wait, log=hold_log):
        _keep_earlier_transcript(settings.output, spec)
        result, _files = run_site(
            site, backup_before_changes(playbook, spec.apply), output_dir=settings.output,
            extra_vars=dict(spec.extra_vars), options=options, run_id=spec.run_id,
            hop=PathHop(paths, spec.attempts, _left(spec, site, 0.0)))
    return result


def _keep_earlier_transcript(output: Path, spec: JobSpec) -> None:
    """A hop after the first writes the run's transcript afresh; an earlier hop's on this
    host is kept beside it as ``transcript.before-path-N.jsonl`` (N: where this hop starts)."""
    if spec.start == 0:
        return
    transcript = run_files(output, spec.run_id).transcript
    if transcript.exists():
        transcript.replace(transcript.with_name(f"transcript.before-path-{spec.start}.jsonl"))


def _left(spec: JobSpec, site: Site, spent: float) -> float:
    budget = site.reach_timeout if spec.reach_left is None else spec.reach_left
    return max(0.0, budget - spent)


def _next_hop(spec: JobSpec, site: Site, result: RunResult,
              spent: float) -> JobSpec | None:
    """The job as it goes on to the next pool, or None when the run ends here: it got a
    console, the PBX refused the login (the next path's login is the same), the reach
    time is spent, or no path is left."""
    end = site.pool_run(spec.start).stop
    if result.status is not RunStatus.UNREACHABLE or result.interrupted or \
            end >= len(site.paths) or not result.paths_tried:
        return None
    last = result.paths_tried[-1].error
    if last.startswith("not tried") or _left(spec, site, spent) <= 0:
        return None
    if last.startswith("AuthFailed") and not site.own_credentials(end):
        return None
    return replace(spec, start=end, attempts=tuple(result.paths_tried),
                   reach_left=_left(spec, site, spent))
