"""``pbxdiag fleet --executor celery`` and ``--status``: the submitter's side, printed the
way the local fleet prints (one line per site, the rich bar on a terminal, the worst exit
code), from the rows the workers complete in the runs table."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from agent.errors import EXIT_OK, EXIT_UNREACHABLE, InputError

if TYPE_CHECKING:
    from agent.commands.fleet import FleetRequest
    from agent.fleet import Job, JobOutcome
    from agent.tickets.storage.location import RegisterLocation
    from agent.tickets.storage.runs import RunRow


def run_on_celery(request: FleetRequest, jobs: list[Job]) -> int:
    from agent.distributed.broker import celery_app
    from agent.distributed.submit import submit, wait_for
    from agent.distributed.work import open_register
    from agent.playbook import RunOptions
    from agent.reports.progress import FleetBar, shown
    from agent.verdict import worst

    if request.playbook_path is None or request.broker is None:
        raise InputError("--executor celery needs the playbook's file and --broker")
    options = request.options or RunOptions()
    app = celery_app(request.broker)
    register, runs = open_register(request.db)
    with register:  # reachable, and migrated, before anything is sent
        pass
    with runs:
        submission = submit(app, [job.site for job in jobs], playbook=request.playbook_path,
                            playbook_name=request.playbook.name, runs=runs,
                            apply=options.apply, tags=options.tags,
                            extra_vars=request.extra_vars, line_wait=request.line_wait)
        if request.detach:
            print(json.dumps({"fleet": submission.fleet_id, "sites": len(jobs)})
                  if request.as_json else f"{submission.fleet_id} {len(jobs)} sites queued; "
                  f"pbxdiag fleet --status {submission.fleet_id}", flush=True)
            return EXIT_OK
        by_site = {job.site.id: job for job in jobs}
        bar = FleetBar(len(jobs)) if shown(request.as_json) else None

        def report(row: RunRow) -> None:
            line = row_line(row, as_json=request.as_json)
            if bar is not None:
                bar.done(_as_outcome(by_site[row.site_id], row), line)
            else:
                print(line, flush=True)

        with bar if bar is not None else nullcontext():
            done = wait_for(runs, submission, timeout=request.wait, on_done=report)
        finished = {row.site_id for row in done}
        for site_id in sorted(set(by_site) - finished):
            print(_unfinished_line(site_id, submission.fleet_id, as_json=request.as_json),
                  flush=True)
        codes = {row.exit_code if row.exit_code is not None else EXIT_UNREACHABLE
                 for row in done}
        if len(finished) < len(by_site):
            codes.add(EXIT_UNREACHABLE)
        return worst(codes)


def fleet_status(fleet_id: str, db: RegisterLocation, *, as_json: bool) -> int:
    """Each site of the fleet as it stands; the fleet's exit code once all are done."""
    from agent.distributed.submit import fleet_rows, fleet_started
    from agent.distributed.work import open_register
    from agent.verdict import worst

    fleet_started(fleet_id)  # a fleet id as --detach prints it, or bad input
    _register, runs = open_register(db)
    with runs:
        rows = fleet_rows(runs, fleet_id)
    if not rows:
        raise InputError(f"--status {fleet_id}: no such fleet in the register {db}")
    pending = [row for row in rows if row.finished_at is None]
    for row in rows:
        print(row_line(row, as_json=as_json))
    summary = {"fleet": fleet_id, "sites": len(rows), "finished": len(rows) - len(pending),
               "pending": len(pending)}
    print(json.dumps(summary) if as_json else
          f"{fleet_id}: {summary['finished']} of {len(rows)} finished, "
          f"{len(pending)} queued or running")
    if pending:
        return EXIT_OK
    return worst({row.exit_code if row.exit_code is not None else EXIT_UNREACHABLE
                  for row in rows})


def row_line(row: RunRow, *, as_json: bool) -> str:
    """A site's line, the local fleet's columns, from its row of the runs table."""
    status = row.status or ("queued or running" if row.finished_at is None else "unknown")
    if as_json:
        return json.dumps({"site": row.site_id, "status": status, "ticket": row.ticket,
                           "exit": row.exit_code, "run_id": row.run_id, "path": row.path,
                           "fleet": row.fleet_id})
    code = f"exit {row.exit_code}" if row.exit_code is not None else ""
    ticket = f" ticket {row.ticket}" if row.ticket else ""
    return f"{row.site_id:<24} {status:<12} {code}{ticket} {row.run_id}".rstrip()


def _unfinished_line(site_id: str, fleet_id: str, *, as_json: bool) -> str:
    if as_json:
        return json.dumps({"site": site_id, "status": "not finished", "exit": EXIT_UNREACHABLE,
                           "fleet": fleet_id})
    return (f"{site_id:<24} {'not finished':<12} exit {EXIT_UNREACHABLE} still queued or "
            f"running at the deadline (pbxdiag fleet --status {fleet_id})")


def _as_outcome(job: Job, row: RunRow) -> JobOutcome:
    """What the progress bar counts (done, failed, unreachable) for a remote run."""
    from agent.fleet import JobOutcome
    from agent.result import RunResult, RunStatus

    values = {status.value for status in RunStatus}
    if row.status in values:
        result = RunResult(run_id=row.run_id, site=row.site_id, playbook=row.playbook,
                           started_at=row.started_at, status=RunStatus(row.status),
                           finished_at=row.finished_at or datetime.now(UTC))
        return JobOutcome(job, result, None, None)
    if row.status == "busy":
        return JobOutcome(job, None, None, None, busy="line held")
    if row.status == "refused":
        return JobOutcome(job, None, None, None, refused="bad configuration")
    return JobOutcome(job, None, None, None, error=row.status or "internal-error")
