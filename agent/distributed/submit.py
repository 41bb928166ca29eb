"""``pbxdiag fleet --executor celery``: queue one job per site, then wait on the register.

Each site's run is recorded as started (with the fleet id and the run id assigned here)
before its message is sent, so the board shows the whole fleet at once and a re-run after
a lost worker is the same run. The submitter does not need a result backend: it reads the
runs table until every run of the fleet is complete or its deadline passes — and with
``--detach`` it returns at once; ``pbxdiag fleet --status FLEET_ID`` reads the same rows.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from agent.distributed.broker import reachable
from agent.distributed.job import JobSpec, playbook_hash
from agent.distributed.worker import send
from agent.errors import InputError
from agent.inventory import Site
from agent.runner import new_run_id
from agent.tickets.storage.runs import RunLog, RunRow

POLL_INTERVAL: Final = 0.5
FLEET_ID_FORMAT: Final = "%Y%m%dT%H%M%SZ"


def new_fleet_id(now: datetime) -> str:
    return f"fleet-{now:{FLEET_ID_FORMAT}}-{secrets.token_hex(3)}"


def fleet_started(fleet_id: str) -> datetime:
    """When a fleet was submitted, read from its id (where to start reading runs)."""
    try:
        stamp = fleet_id.split("-")[1]
        return datetime.strptime(stamp, FLEET_ID_FORMAT).replace(tzinfo=UTC)
    except (IndexError, ValueError):
        raise InputError(f"--status {fleet_id!r}: not a fleet id "
                         "(fleet-YYYYMMDDTHHMMSSZ-xxxxxx, as printed by --detach)") from None


@dataclass(frozen=True, slots=True)
class Submission:
    fleet_id: str
    run_ids: dict[str, str]  # site id -> run id
    at: datetime


def submit(app: Any, sites: Iterable[Site], *, playbook: Path, playbook_name: str,
           runs: RunLog, apply: bool = False, tags: Iterable[str] = (),
           extra_vars: dict[str, Any] | None = None, line_wait: float = 60.0) -> Submission:
    """One message per site to the queue of its first path's pool (nothing secret)."""
    reachable(app)  # before any run is recorded or any message sent
    now = datetime.now(UTC)
    fleet_id = new_fleet_id(now)
    digest = playbook_hash(playbook)
    chosen = list(sites)
    run_ids = {site.id: new_run_id(site.id, now) for site in chosen}
    for site in chosen:  # every site on the board before the first message
        runs.started(run_id=run_ids[site.id], site_id=site.id, playbook=playbook_name,
                     at=now, fleet_id=fleet_id)
    for site in chosen:
        spec = JobSpec(site_id=site.id, playbook=str(playbook.resolve()),
                       playbook_sha256=digest, run_id=run_ids[site.id], fleet_id=fleet_id,
                       apply=apply, tags=tuple(sorted(tags)), extra_vars=dict(extra_vars or {}),
                       line_wait=line_wait)
        send(app, spec, site.pool_of(0))
    return Submission(fleet_id=fleet_id, run_ids=run_ids, at=now)


def fleet_rows(runs: RunLog, fleet_id: str) -> list[RunRow]:
    """The fleet's rows of the runs table, one per site, with the ticket each filed."""
    return runs.of_fleet(fleet_id)


def wait_for(runs: RunLog, submission: Submission, *, timeout: float,
             on_done: Callable[[RunRow], None]) -> list[RunRow]:
    """Every finished row, told to ``on_done`` as it completes, until all are or the
    deadline passes (the rows not finished by then are left out of the list)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()  # never set: the bounded pause between reads
    done: dict[str, RunRow] = {}
    wanted = set(submission.run_ids.values())
    while True:
        for row in fleet_rows(runs, submission.fleet_id):
            if row.finished_at is not None and row.run_id in wanted \
                    and row.run_id not in done:
                done[row.run_id] = row
                on_done(row)
        remaining = deadline - time.monotonic()
        if len(done) == len(wanted) or remaining <= 0:
            return list(done.values())
        pause.wait(min(POLL_INTERVAL, remaining))
