"""``pbxdiag run PLAYBOOK --site ID --inventory FILE``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agent import logsetup
from agent.commands import add_db_option, db_path
from agent.errors import EXIT_CHECKS_FAILED, EXIT_OK, EXIT_UNREACHABLE
from agent.paths import default_data_dir
from agent.result import RunStatus

EXIT_FOR_STATUS = {
    RunStatus.PASSED: EXIT_OK,
    RunStatus.FAILED: EXIT_CHECKS_FAILED,
    RunStatus.UNREACHABLE: EXIT_UNREACHABLE,
    RunStatus.ERROR: EXIT_UNREACHABLE,
}


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="run a playbook against one site")
    run.add_argument("playbook", type=Path)
    run.add_argument("--site", required=True, help="site id from the inventory")
    run.add_argument("--inventory", required=True, type=Path)
    run.add_argument("--output", type=Path, default=None,
                     help="where run results go (default: XDG data dir)")
    run.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    add_db_option(run)
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from agent.diagnose import diagnose
    from agent.inventory import load_inventory
    from agent.playbook import load_playbook
    from agent.reports.summary import render_summary

    playbook = load_playbook(args.playbook)
    site = load_inventory(args.inventory).site(args.site)
    output = args.output if args.output is not None else default_data_dir()
    logsetup.configure(log_file=output / "pbxdiag.log")
    diagnosis = diagnose(site, playbook, output_dir=output, db_path=db_path(args))
    if args.json:
        print(json.dumps(diagnosis.result.to_json(), indent=2, sort_keys=True))
    else:
        print(render_summary(diagnosis))
    return EXIT_FOR_STATUS[diagnosis.result.status]
