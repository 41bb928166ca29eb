"""``pbxdiag schedule JOBFILE``: run a scheduled job (what cron calls).

The job file (agent/schedule.py) holds the playbook, inventory, sites, variables and
whether the job may program (``apply: true``) — so a crontab line stays one short command
and a change to the nightly run is a reviewed file, not an edited crontab.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agent.commands import add_db_option, db_path


def register(commands: Any) -> None:
    schedule = commands.add_parser("schedule", help="run a scheduled job file (from cron)")
    schedule.add_argument("job", type=Path, help="the job file (YAML)")
    schedule.add_argument("--output", type=Path, default=None,
                          help="where run results go (default: XDG data dir)")
    schedule.add_argument("--json", action="store_true", help="one JSON line per site")
    add_db_option(schedule)
    schedule.set_defaults(handler=_schedule)


def _schedule(args: argparse.Namespace) -> int:
    from agent.commands.fleet import FleetRequest, run_and_report
    from agent.inventory import load_inventory
    from agent.playbook import RunOptions, load_playbook
    from agent.schedule import load_job

    job = load_job(args.job)
    if job.executor == "celery":
        from agent.distributed.broker import check_broker

        check_broker(job.broker)
    playbook = load_playbook(job.playbook)
    options = RunOptions(apply=job.apply, tags=job.tags)
    return run_and_report(FleetRequest(
        playbook=playbook, inventory=load_inventory(job.inventory),
        sites=list(job.sites) if job.sites else None, concurrency=job.concurrency,
        extra_vars=dict(job.vars), output=args.output, db=db_path(args),
        as_json=args.json, options=options, playbook_path=job.playbook,
        executor=job.executor, broker=job.broker))
