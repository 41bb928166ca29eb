"""``pbxdiag console --site ID --inventory FILE [--ticket FR-…]``: a live PBX session.

The session itself is ``agent.console_session``; this module checks the desk's input
before anything is dialled (the site, its credentials, the ticket), holds the site's line
lock for the session's whole length, and records the session on the ticket afterwards.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import logsetup
from agent.commands import add_db_option, add_inventory_option, db_path
from agent.paths import default_data_dir
from agent.tickets.storage.location import RegisterLocation

#: How long a console waits for a run (or another console) to give the line back.
DEFAULT_LINE_WAIT = 10.0
EXIT_SIGNALLED_BASE = 128


def register(commands: Any) -> None:
    console = commands.add_parser(
        "console", help="an interactive session at a PBX over the site's line",
        description="Log in to the site's PBX through its paths (LAN first, the modem "
                    "last) and type at it. A backup is taken first; the transcript is "
                    "recorded redacted. Escapes at the start of a line: ~. hang up, "
                    "~? help, ~g GETTER show a getter's table, ~b take a backup.")
    console.add_argument("--site", required=True, help="site id from the inventory")
    add_inventory_option(console, help="the inventory YAML file that names the site")
    console.add_argument("--ticket", default=None, metavar="FR-…",
                         help="record the session on this ticket (tried remotely)")
    console.add_argument("--output", type=Path, default=None,
                         help="data dir: sessions go to console/<id>/ (default: XDG data dir)")
    console.add_argument("--line-wait", type=float, default=DEFAULT_LINE_WAIT,
                         metavar="SECONDS",
                         help="how long to wait when a run holds the site's line "
                              f"(default {DEFAULT_LINE_WAIT:g}; 0: refuse at once)")
    add_db_option(console)
    console.set_defaults(handler=_console)


def _console(args: argparse.Namespace) -> int:
    from agent.console_session import ConsoleSession, site_line
    from agent.inventory import load_inventory

    inventory = load_inventory(args.inventory)
    site = inventory.site(args.site)
    site.check()  # a bad path URL or credential: bad input, before anything is dialled
    site.credentials.resolve()
    if args.ticket is not None:
        _check_ticket(db_path(args), args.ticket)
    output = args.output if args.output is not None else default_data_dir()
    logsetup.configure(log_file=output / "pbxdiag.log")
    session = ConsoleSession(site, data_dir=output, stdin=sys.stdin.buffer,
                             stdout=sys.stdout.buffer, notes=sys.stderr.buffer,
                             ticket=args.ticket)
    try:
        with site_line(output, site.id, who=f"pbxdiag console by {_user()}",
                       wait=args.line_wait):
            session.run()
    finally:
        if args.ticket is not None and session.record.path is not None:
            _record_on_ticket(db_path(args), args.ticket, session.record)
    return 0 if session.signalled is None else EXIT_SIGNALLED_BASE + session.signalled


def _check_ticket(db: RegisterLocation, ref: str) -> None:
    """An unknown ticket is the desk's mistake: exit 2 before the line is touched."""
    from agent.tickets.register import Register

    with Register(db) as register:
        register.get(ref)


def _record_on_ticket(db: RegisterLocation, ref: str, record: Any) -> None:
    from agent.tickets.register import Register

    detail = (f"console session {record.session_id} over {record.path}: "
              f"{record.lines_sent} line(s) typed, {len(record.backups)} backup(s), "
              f"ended {record.ended or 'by hang-up'}; transcript {record.transcript}")
    with Register(db) as register:
        register.record_tried_remotely(ref, detail, who=_user(), now=datetime.now(UTC))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
