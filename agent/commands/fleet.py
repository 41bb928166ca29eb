"""``pbxdiag fleet PLAYBOOK --inventory FILE``: the scheduled health check of many sites."""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import logsetup
from agent.commands import add_db_option, add_inventory_option, db_path, playbook_argument
from agent.paths import default_data_dir
from agent.tickets.storage.location import RegisterLocation

if TYPE_CHECKING:
    from agent.fleet import JobOutcome
    from agent.inventory import Inventory
    from agent.playbook import Playbook, RunOptions


def register(commands: Any) -> None:
    fleet = commands.add_parser("fleet", help="run a playbook against many sites at once")
    fleet.add_argument("playbook", type=playbook_argument, nargs="?", default=None,
                       help="the playbook every site runs: a YAML file, or a shipped "
                            "playbook's name (health-check)")
    add_inventory_option(fleet, required=False, help="the inventory YAML file of the sites")
    fleet.add_argument("--sites", default=None,
                       help="comma-separated site ids (default: every site)")
    fleet.add_argument("--concurrency", type=int, default=8,
                       help="sites at once (default 8; one session per PBX and modem)")
    fleet.add_argument("--output", type=Path, default=None,
                       help="where run results go (default: XDG data dir)")
    fleet.add_argument("--json", action="store_true", help="one JSON line per site")
    fleet.add_argument("--line-wait", type=float, default=60.0, metavar="SECONDS",
                       help="how long a site waits while a console session or another run "
                            "holds its line (default 60; then that site is busy, exit 3)")
    fleet.add_argument("--var", action="append", default=[], metavar="KEY=VALUE",
                       help="a playbook variable for every site (the nightly run: "
                            "--var scheduled=true)")
    fleet.add_argument("--executor", choices=("local", "celery"), default="local",
                       help="local: a thread pool here (default); celery: one job per site "
                            "on the queue of its pool (docs/scale.md)")
    fleet.add_argument("--broker", default=None,
                       help="with --executor celery: redis://host:6379/0 or amqp://host//")
    fleet.add_argument("--detach", action="store_true",
                       help="with --executor celery: print the fleet id and return at once")
    fleet.add_argument("--status", default=None, metavar="FLEET_ID",
                       help="how a fleet submitted with --detach is doing (reads --db)")
    fleet.add_argument("--wait", type=float, default=24 * 3600.0, metavar="SECONDS",
                       help="with --executor celery: how long to wait for the fleet "
                            "(default 24 h; sites not finished by then are exit 3)")
    add_db_option(fleet)
    fleet.set_defaults(handler=_fleet)


def _fleet(args: argparse.Namespace) -> int:
    from agent.commands.run import parse_vars
    from agent.errors import InputError
    from agent.inventory import load_inventory
    from agent.playbook import load_playbook

    if args.status is not None:
        from agent.commands.fleet_celery import fleet_status

        return fleet_status(args.status, db_path(args), as_json=args.json)
    if args.playbook is None:
        raise InputError("name the playbook (pbxdiag fleet PLAYBOOK --inventory FILE), "
                         "or --status FLEET_ID")
    if args.inventory is None:
        raise InputError("--inventory is required (or $PBXDIAG_INVENTORY, or inventory: in "
                         "config.yaml)")
    if args.concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    if args.executor != "celery" and (args.broker or args.detach):
        raise InputError("--broker and --detach go with --executor celery")
    if args.executor == "celery":
        from agent.distributed.broker import check_broker

        check_broker(args.broker)  # a bad broker URL: exit 2 before anything is read or sent
    playbook = load_playbook(args.playbook)
    inventory = load_inventory(args.inventory)
    wanted = args.sites.split(",") if args.sites else None
    return run_and_report(FleetRequest(
        playbook=playbook, inventory=inventory, sites=wanted, concurrency=args.concurrency,
        extra_vars=parse_vars(args.var), output=args.output, db=db_path(args),
        as_json=args.json, line_wait=args.line_wait, playbook_path=args.playbook,
        executor=args.executor, broker=args.broker, detach=args.detach, wait=args.wait))


@dataclass(frozen=True)
class FleetRequest:
    """Everything one fleet run needs, from the command line or a scheduled-job file."""

    playbook: Playbook
    inventory: Inventory
    sites: list[str] | None
    concurrency: int
    extra_vars: dict[str, object]
    output: Path | None
    db: RegisterLocation
    as_json: bool
    options: RunOptions | None = None
    line_wait: float = 60.0
    #: The playbook's file (a Celery job names it and its hash, never its content).
    playbook_path: Path | None = None
    executor: str = "local"
    broker: str | None = None
    detach: bool = False
    wait: float = 24 * 3600.0


def run_and_report(request: FleetRequest) -> int:
    """Run the fleet, print one line per site as each finishes, exit with the worst.

    On a terminal (and without ``--json``) a progress bar on stderr counts the sites done,
    failed and unreachable, and a totals line ends the run (agent/reports/progress.py)."""
    from agent.fleet import Job, fleet_exit_code, run_fleet
    from agent.playbook import RunOptions
    from agent.playbook.preflight import preflight
    from agent.reports.progress import FleetBar, shown

    inventory = request.inventory
    wanted = request.sites or sorted(inventory.sites)
    jobs = [Job(inventory.site(site_id), request.playbook) for site_id in wanted]
    for vendor in sorted({job.site.vendor for job in jobs}):
        # A bad playbook, var or tag is every site's problem: refuse the fleet, dial none.
        preflight(request.playbook, request.options or RunOptions(), request.extra_vars,
                  vendor=vendor)
    output = request.output if request.output is not None else default_data_dir()
    logsetup.configure(log_file=output / "pbxdiag.log")
    if request.executor == "celery":
        from agent.commands.fleet_celery import run_on_celery

        return run_on_celery(request, jobs)

    bar = FleetBar(len(jobs)) if shown(request.as_json) else None

    def report(outcome: JobOutcome) -> None:
        line = _line(outcome, as_json=request.as_json)
        if bar is not None:
            bar.done(outcome, line)  # the site's line above the bar
        else:
            print(line, flush=True)

    with bar if bar is not None else nullcontext():
        outcomes = run_fleet(jobs, output_dir=output, db_path=request.db,
                             concurrency=request.concurrency, extra_vars=request.extra_vars,
                             options=request.options, on_done=report,
                             line_wait=request.line_wait)
    return fleet_exit_code(outcomes)


def _line(outcome: JobOutcome, *, as_json: bool) -> str:
    result, filing = outcome.result, outcome.filing
    ticket = filing.outcome.ticket.ref if filing and filing.outcome else None
    status = result.status.value if result else "refused" if outcome.refused \
        else "busy" if outcome.busy else "internal-error"
    problem = outcome.error or outcome.refused or outcome.busy \
        or (result.error if result else None)
    window = filing.maintenance_json() if filing else None
    if as_json:
        return json.dumps({"site": outcome.job.site.id, "status": status, "ticket": ticket,
                           "exit": outcome.exit_code, "maintenance": window,
                           "result": str(outcome.files.result) if outcome.files else None,
                           "error": problem})
    detail = f" ticket {ticket}" if ticket else " in maintenance: no ticket filed" \
        if window else ""
    return (f"{outcome.job.site.id:<24} {status:<12} exit {outcome.exit_code}{detail} "
            f"{problem or ''}").rstrip()
