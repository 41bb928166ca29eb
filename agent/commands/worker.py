"""``pbxdiag worker --pool POOL --broker URL``: run the Celery fleet jobs of a pool.

Start one per host that owns lines (a modem bank, a LAN region), naming the pools whose
lines it can reach (docs/scale.md). The worker reads the inventory and the PBX logins
from its own environment and files: the broker never carries a secret.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

from agent.commands import add_db_option, add_inventory_option, db_path


def register(commands: Any) -> None:
    worker = commands.add_parser("worker", help="run the Celery fleet jobs of one or more "
                                                "pools (docs/scale.md)")
    worker.add_argument("--pool", action="append", required=True, metavar="POOL",
                        help="a pool whose jobs this worker runs (repeat for several)")
    worker.add_argument("--concurrency", type=int, default=4,
                        help="jobs at once (worker processes; default 4)")
    worker.add_argument("--broker", required=True,
                        help="the broker: redis://host:6379/0 or amqp://user@host//")
    add_inventory_option(worker, help="the inventory YAML file of the sites")
    worker.add_argument("--output", type=Path, default=None,
                        help="where run results, transcripts and line locks go (default: "
                             "XDG data dir; the workers of one host share it)")
    worker.add_argument("--job-time-limit", type=float, default=1800.0, metavar="SECONDS",
                        help="the hard limit of one job (default 1800); Redis redelivers an "
                             "unfinished job only after this plus a tenth (at least 10 s)")
    worker.add_argument("--name", default=None,
                        help="this worker's name in logs and lock records (default: host-pid)")
    worker.add_argument("--lock-log", type=Path, default=None,
                        help="append every line-lock hold here (JSON lines; default: "
                             "OUTPUT/locks/holds.jsonl)")
    add_db_option(worker)
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    import os

    from agent import logsetup
    from agent.distributed.broker import check_broker
    from agent.distributed.work import WorkerSettings, open_register
    from agent.errors import InputError
    from agent.inventory import POOL_PATTERN, load_inventory
    from agent.paths import default_data_dir

    if args.concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    if args.job_time_limit <= 0:
        raise InputError("--job-time-limit must be above 0")
    for pool in args.pool:
        if not POOL_PATTERN.fullmatch(pool):
            raise InputError(f"--pool {pool!r}: letters, digits, '.', '_' and '-' only")
    broker = check_broker(args.broker)
    location = db_path(args)
    inventory = load_inventory(args.inventory)  # bad input now, not in every job
    for site in inventory.sites.values():
        # The hard limit kills a job, and the visibility timeout is derived from it: a
        # site that may need longer just to reach its PBX would be killed mid-call.
        if site.reach_timeout >= args.job_time_limit:
            raise InputError(f"--job-time-limit {args.job_time_limit:g}: site {site.id} may "
                             f"take {site.reach_timeout:g} s just to reach its PBX "
                             "(reach_timeout); give a job longer than that")
    register, runs = open_register(location)
    with register, runs:  # reachable, and migrated, before the first job
        pass
    output = args.output if args.output is not None else default_data_dir()
    logsetup.configure(log_file=output / "pbxdiag.log")
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    settings = WorkerSettings(inventory=args.inventory.resolve(), register=location,
                              output=output.resolve(), name=name,
                              hold_log=args.lock_log or output / "locks" / "holds.jsonl")
    from agent.distributed.worker import run_worker

    return run_worker(broker, list(args.pool), concurrency=args.concurrency,
                      settings=settings, job_time_limit=args.job_time_limit)
