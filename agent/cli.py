"""The ``pbxdiag`` command.

Exit codes: 0 all checks passed, 1 checks failed (fault logged), 2 bad input (playbook,
inventory, arguments), 3 could not reach or log into the PBX. Deliberate errors print one
clear line (``file:line: message`` for files), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from agent import logsetup
from agent.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECKS_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    InputError,
    PbxdiagError,
)
from agent.paths import default_data_dir
from agent.result import RunStatus
from agent.secrets import REDACTOR

Handler = Callable[[argparse.Namespace], int]


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None,
                        help="ticket register (SQLite); default: XDG data dir/tickets.db")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pbxdiag", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the health check on a simulated faulty PBX")
    demo.add_argument("--output", type=Path, default=Path("demo-output"),
                      help="directory for all demo files (default: ./demo-output)")
    demo.set_defaults(handler=_cmd_demo)

    run = commands.add_parser("run", help="run a playbook against one site")
    run.add_argument("playbook", type=Path)
    run.add_argument("--site", required=True, help="site id from the inventory")
    run.add_argument("--inventory", required=True, type=Path)
    run.add_argument("--output", type=Path, default=None,
                     help="where run results go (default: XDG data dir)")
    run.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    _add_db(run)
    run.set_defaults(handler=_cmd_run)

    tickets = commands.add_parser("tickets", help="the fault ticket register")
    ticket_cmds = tickets.add_subparsers(dest="tickets_command", required=True,
                                         metavar="ACTION")
    listing = ticket_cmds.add_parser("list", help="list tickets")
    listing.add_argument("--open", action="store_true", help="open tickets only")
    listing.add_argument("--site", default=None)
    listing.add_argument("--json", action="store_true")
    _add_db(listing)
    listing.set_defaults(handler=_cmd_tickets_list)
    show = ticket_cmds.add_parser("show", help="one ticket with occurrences and audit trail")
    show.add_argument("ref")
    show.add_argument("--json", action="store_true")
    _add_db(show)
    show.set_defaults(handler=_cmd_tickets_show)

    simulate = commands.add_parser("simulate", help="serve a simulated PBX until interrupted")
    simulate.add_argument("scenario", help="scenario name or YAML file")
    simulate.add_argument("--ssh", type=int, default=0, metavar="PORT",
                          help="SSH port (0 picks a free port)")
    simulate.add_argument("--state-dir", type=Path, default=None,
                          help="where the persistent host key lives")
    simulate.set_defaults(handler=_cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logsetup.configure(verbose=args.verbose)
    handler: Handler = args.handler
    try:
        return handler(args)
    except InputError as err:
        _error(err.located())
        return EXIT_BAD_INPUT
    except PbxdiagError as err:
        _error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _error(message: str) -> None:
    print(f"pbxdiag: {REDACTOR.scrub(message)}", file=sys.stderr)


def _db_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_data_dir() / "tickets.db"


def exit_code_for(status: RunStatus) -> int:
    return {
        RunStatus.PASSED: EXIT_OK,
        RunStatus.FAILED: EXIT_CHECKS_FAILED,
        RunStatus.UNREACHABLE: EXIT_UNREACHABLE,
        RunStatus.ERROR: EXIT_UNREACHABLE,
    }[status]


def _cmd_run(args: argparse.Namespace) -> int:
    from agent.diagnose import diagnose
    from agent.inventory import load_inventory
    from agent.playbook import load_playbook
    from agent.reports.summary import render_summary

    playbook = load_playbook(args.playbook)
    site = load_inventory(args.inventory).site(args.site)
    output = args.output if args.output is not None else default_data_dir()
    logsetup.configure(log_file=output / "pbxdiag.log")
    outcome = diagnose(site, playbook, output_dir=output, db_path=_db_path(args))
    if args.json:
        print(json.dumps(outcome.result.to_json(), indent=2, sort_keys=True))
    else:
        print(render_summary(outcome))
    return exit_code_for(outcome.result.status)


def _cmd_demo(args: argparse.Namespace) -> int:
    from agent.demo import run_demo

    return run_demo(args.output)


def _cmd_tickets_list(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_ticket_list
    from agent.tickets import Register

    with Register(_db_path(args)) as register:
        tickets = register.list_tickets(open_only=args.open, site_id=args.site)
    print(render_ticket_list(tickets, as_json=args.json))
    return EXIT_OK


def _cmd_tickets_show(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_ticket
    from agent.tickets import Register

    with Register(_db_path(args)) as register:
        ticket = register.get(args.ref)
        occurrences = register.occurrences(args.ref)
        audit = register.audit(args.ref)
    print(render_ticket(ticket, occurrences, audit, as_json=args.json))
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from agent.simulate import serve_until_interrupted

    return serve_until_interrupted(args.scenario, ssh_port=args.ssh, state_dir=args.state_dir)


if __name__ == "__main__":
    raise SystemExit(main())
