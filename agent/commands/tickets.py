"""``pbxdiag tickets ...``: the fault register."""

from __future__ import annotations

import argparse
from typing import Any

from agent.commands import add_db_option, db_path
from agent.errors import EXIT_OK


def register(commands: Any) -> None:
    tickets = commands.add_parser("tickets", help="the fault ticket register")
    actions = tickets.add_subparsers(dest="tickets_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list tickets")
    listing.add_argument("--open", action="store_true", help="open tickets only")
    listing.add_argument("--site", default=None)
    listing.add_argument("--json", action="store_true")
    add_db_option(listing)
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="one ticket with occurrences and audit trail")
    show.add_argument("ref")
    show.add_argument("--json", action="store_true")
    add_db_option(show)
    show.set_defaults(handler=_show)


def _list(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_ticket_list
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        tickets = register.list_tickets(open_only=args.open, site_id=args.site)
    print(render_ticket_list(tickets, as_json=args.json))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_ticket
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        ticket = register.get(args.ref)
        occurrences = register.occurrences(args.ref)
        audit = register.audit(args.ref)
    print(render_ticket(ticket, occurrences, audit, as_json=args.json))
    return EXIT_OK
