"""Many sites at once: a bounded thread pool over independent (site, playbook) jobs.

A PBX allows one maintenance session and a modem line carries one call, so jobs are
serialised per site and per modem device while everything else runs in parallel. Each job
is self-contained (its own RunResult on disk, its own register transaction), so the same
jobs can go to a distributed queue when one host is not enough (DESIGN.md).
"""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog

from agent.backups import store_run_backups
from agent.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_UNREACHABLE,
    InputError,
)
from agent.inventory import Site
from agent.playbook import Playbook, RunOptions
from agent.playbook.steps.backup import backup_before_changes
from agent.result import RunResult
from agent.runner import RunFiles, new_run_id, run_site
from agent.sitelock import LineInUse, site_line
from agent.tickets import Register
from agent.tickets.filing import Filing, file_run
from agent.tickets.storage.location import RegisterLocation
from agent.tickets.storage.runs import RunLog
from agent.verdict import run_exit_code, worst

log = structlog.get_logger(__name__)

#: How long a fleet job waits for a site's line held by another process (a console).
FLEET_LINE_WAIT = 60.0


@dataclass(frozen=True, slots=True)
class Job:
    site: Site
    playbook: Playbook


@dataclass(frozen=True, slots=True)
class JobOutcome:
    job: Job
    result: RunResult | None
    files: RunFiles | None
    filing: Filing | None
    error: str | None = None  # an unexpected failure of pbxdiag itself, never of the PBX
    #: The site's own configuration is bad input (docs/reliability.md): not dialled.
    refused: str | None = None
    #: Another process (a console session, a run by hand) held the site's line throughout.
    busy: str | None = None

    @property
    def exit_code(self) -> int:
        """This site's exit code, as ``pbxdiag run`` would give it."""
        if self.error:
            return EXIT_INTERNAL
        if self.refused:
            return EXIT_BAD_INPUT
        if self.busy:
            return EXIT_UNREACHABLE
        if self.result is None:
            return EXIT_INTERNAL
        return run_exit_code(self.result, self.filing)


class LineLocks:
    """One lock per PBX (site id) and per modem device, created on first use."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def keys_for(self, site: Site) -> list[str]:
        keys = [f"site:{site.id}"]
        keys += [f"modem:{urlsplit(url).path}" for url in site.paths
                 if urlsplit(url).scheme == "modem"]
        return sorted(set(keys))  # a fixed order: two jobs can never deadlock

    @contextmanager
    def holding(self, site: Site) -> Iterator[None]:
        with self._guard:
            locks = [self._locks[key] for key in self.keys_for(site)]
        with ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield


def run_fleet(jobs: Iterable[Job], *, output_dir: Path, db_path: RegisterLocation,
              concurrency: int = 8,
              extra_vars: dict[str, object] | None = None,
              options: RunOptions | None = None,
              on_done: Callable[[JobOutcome], None] | None = None,
              line_wait: float = FLEET_LINE_WAIT) -> list[JobOutcome]:
    """Run every job; one failure never stops the rest.

    ``extra_vars`` reach every playbook, e.g. ``scheduled=true`` for the nightly checks.
    Without ``options`` (or with ``apply`` false) the fleet is read-only: programming
    changes only show their diff.
    """
    locks = LineLocks()
    outcomes: list[JobOutcome] = []
    fleet_id = f"fleet-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    with Register(db_path) as register, RunLog(db_path) as runs, \
            ThreadPoolExecutor(max_workers=concurrency) as pool:
        queued = [(job, new_run_id(job.site.id, datetime.now(UTC))) for job in jobs]
        for job, run_id in queued:  # every site on the board before the first is dialled
            runs.started(run_id=run_id, site_id=job.site.id, playbook=job.playbook.name,
                         at=datetime.now(UTC), fleet_id=fleet_id)
        futures = [pool.submit(_recorded_job, job, run_id, locks, register, runs,
                               output_dir=output_dir, extra_vars=extra_vars, options=options,
                               line_wait=line_wait)
                   for job, run_id in queued]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
    return outcomes


def _recorded_job(job: Job, run_id: str, locks: LineLocks, register: Register,
                  runs: RunLog, **how: Any) -> JobOutcome:
    """One job, and how it ended on its row of the runs table (whatever happened)."""
    outcome = _run_job(job, run_id, locks, register, **how)
    status = outcome.result.status.value if outcome.result else "refused" \
        if outcome.refused else "busy" if outcome.busy else "internal-error"
    runs.finished(run_id=run_id, at=datetime.now(UTC), status=status,
                  exit_code=outcome.exit_code,
                  path=outcome.result.path if outcome.result else None)
    return outcome


def _run_job(job: Job, run_id: str, locks: LineLocks, register: Register, *,
             output_dir: Path,
             extra_vars: dict[str, object] | None,
             options: RunOptions | None, line_wait: float) -> JobOutcome:
    try:
        job.site.check()
    except InputError as err:
        log.warning("site refused: bad configuration", site=job.site.id, error=err.located())
        return JobOutcome(job, None, None, None, refused=err.located())
    apply = options is not None and options.apply
    try:
        # This fleet's threads, then other processes (a console session, a run by hand).
        with locks.holding(job.site), site_line(output_dir, job.site.id, who="pbxdiag fleet",
                                                 wait=line_wait):
            result, files = run_site(job.site, backup_before_changes(job.playbook, apply),
                                     output_dir=output_dir, extra_vars=extra_vars,
                                     options=options, run_id=run_id)
        store_run_backups(output_dir, result)
        filing = file_run(register, job.site, result)
    except LineInUse as err:
        log.warning("site busy: another process holds its line", site=job.site.id,
                    error=str(err))
        return JobOutcome(job, None, None, None, busy=str(err))
    except Exception as err:
        log.exception("fleet job failed", site=job.site.id)
        return JobOutcome(job, None, None, None, error=f"{type(err).__name__}: {err}")
    return JobOutcome(job, result, files, filing)


def fleet_exit_code(outcomes: list[JobOutcome]) -> int:
    """The worst site's exit code (each site's own is on its line of the report)."""
    return worst({o.exit_code for o in outcomes})
