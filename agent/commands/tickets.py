"""``pbxdiag tickets ...``: the fault register, its lifecycle, escalations and outbox.

Every action takes ``--db`` (default: the XDG data dir). Changes are recorded in the
audit trail under ``--by`` (default: the login name). Exit codes: 0 done, 1 some
notification could not be delivered (it waits in the outbox or is marked failed), 2 bad
input — an unknown reference, a move the lifecycle forbids, a bad date or inventory.
``note``, ``status``, ``book-visit`` and ``resolve`` take ``--json`` and then print the
ticket as ``show --json`` does.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.commands import add_db_option, add_inventory_option, db_path, who
from agent.errors import EXIT_CHECKS_FAILED, EXIT_OK

if TYPE_CHECKING:
    from agent.tickets import Register
    from agent.tickets.settings import NotificationSettings

_LONDON = ZoneInfo("Europe/London")


def register(commands: Any) -> None:
    tickets = commands.add_parser("tickets", help="the fault ticket register")
    actions = tickets.add_subparsers(dest="tickets_command", required=True, metavar="ACTION")
    _add_list(actions)
    _add_show(actions)
    _add_note(actions)
    _add_status(actions)
    _add_book_visit(actions)
    _add_resolve(actions)
    _add_merge(actions)
    _add_escalate(actions)
    _add_stats(actions)
    _add_outbox(actions)


# --- parsers ---------------------------------------------------------------------------


def _action(actions: Any, name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text,
                                                         description=help_text)
    add_db_option(parser)
    parser.set_defaults(handler=handler)
    return parser


def _add_by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", default=None, metavar="NAME",
                        help="who is making the change (default: your login name)")
    parser.add_argument("--json", action="store_true",
                        help="print the ticket afterwards as 'tickets show --json' does")


def _add_list(actions: Any) -> None:
    parser = _action(actions, "list", "list tickets (and the sites in a maintenance "
                     "window)", _list)
    parser.add_argument("--open", action="store_true", help="open tickets only")
    parser.add_argument("--site", default=None, help="only this site's tickets")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_inventory_option(parser, required=False,
                         help="inventory whose maintenance windows are shown as well")


def _add_show(actions: Any) -> None:
    parser = _action(actions, "show", "one ticket with occurrences, audit trail and "
                     "notifications", _show)
    parser.add_argument("ref", help="the fault reference, FR-YYYY-NNNNNN")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _add_note(actions: Any) -> None:
    parser = _action(actions, "note", "add a note to a ticket's audit trail", _note)
    parser.add_argument("ref", help="the fault reference, FR-YYYY-NNNNNN")
    parser.add_argument("text", help="the note, as it will appear in the audit trail")
    _add_by(parser)


def _add_status(actions: Any) -> None:
    parser = _action(actions, "status", "move a ticket to another lifecycle state", _status)
    parser.add_argument("ref", help="the fault reference, FR-YYYY-NNNNNN")
    parser.add_argument("state", help="remote_diagnosis, escalated_to_manufacturer, "
                        "closed, cancelled, … (see docs/tickets.md)")
    parser.add_argument("--note", default="", help="why (kept in the audit trail)")
    _add_by(parser)


def _add_book_visit(actions: Any) -> None:
    parser = _action(actions, "book-visit", "book an engineer visit", _book_visit)
    parser.add_argument("ref", help="the fault reference, FR-YYYY-NNNNNN")
    parser.add_argument("--date", required=True, type=_date, help="YYYY-MM-DD")
    parser.add_argument("--engineer", required=True, help="who will visit the site")
    parser.add_argument("--parts", nargs="+", action="extend", default=[], metavar="PART",
                        help="parts the engineer brings (cards, keysets, PSU)")
    _add_by(parser)


def _add_resolve(actions: Any) -> None:
    parser = _action(actions, "resolve", "mark a ticket resolved (from any open state: the "
                     "moves between are recorded)", _resolve)
    parser.add_argument("ref", help="the fault reference, FR-YYYY-NNNNNN")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--remote", dest="how", action="store_const", const="remote",
                     help="first line fixed it remotely")
    how.add_argument("--on-site", dest="how", action="store_const", const="on_site",
                     help="an engineer fixed it on site")
    parser.add_argument("--note", default="", help="how it was resolved, for the audit trail")
    _add_by(parser)


def _add_merge(actions: Any) -> None:
    parser = _action(actions, "merge", "a duplicate ticket of the same fault: cancel it as "
                     "merged into another open one of the site", _merge)
    parser.add_argument("ref", help="the duplicate, FR-YYYY-NNNNNN (it is cancelled)")
    parser.add_argument("--into", required=True, metavar="REF",
                        help="the ticket that carries on")
    _add_by(parser)


def _add_escalate(actions: Any) -> None:
    parser = _action(actions, "escalate", "send due escalations (run from cron); with "
                     "--inventory also deliver them now", _escalate)
    add_inventory_option(parser, required=False,
                         help="inventory with the notifications: section")


def _add_stats(actions: Any) -> None:
    parser = _action(actions, "stats", "remote-resolution rate, SLA attainment, counts",
                     _stats)
    parser.add_argument("--since", type=_since, default=None,
                        help="tickets opened since (YYYY-MM-DD, Europe/London, or ISO time)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _add_outbox(actions: Any) -> None:
    outbox = actions.add_parser("outbox", help="notifications waiting or sent")
    verbs = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    flush = _action(verbs, "flush", "deliver every notification that is due", _flush)
    add_inventory_option(flush, help="inventory with the notifications: section")
    flush.add_argument("--limit", type=int, default=None, help="deliver at most N")
    flush.add_argument("--now", action="store_true",
                       help="retry the messages waiting in back-off at once")
    flush.add_argument("--json", action="store_true",
                       help="print sent / failed / waiting as JSON")
    listing = _action(verbs, "list", "list queued and sent notifications", _outbox_list)
    listing.add_argument("--status", choices=("pending", "sent", "skipped", "failed"),
                         help="only messages in this delivery state")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _since(text: str) -> datetime:
    """A date is midnight in London; a time without a zone is London time too."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=_LONDON)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or ISO time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_LONDON)


def _now() -> datetime:
    return datetime.now(UTC)


# --- handlers ----------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_ticket_list
    from agent.tickets import Register

    now = _now()
    with Register(db_path(args)) as register:
        tickets = register.list_tickets(open_only=args.open, site_id=args.site)
        windows = register.maintenance_windows(site_id=args.site, at=now)
    if args.inventory is not None:
        from agent.inventory import load_inventory

        windows += [w for site in load_inventory(args.inventory).sites.values()
                    for w in site.maintenance
                    if w.covers(now) and args.site in (None, site.id)]
    print(render_ticket_list(tickets, as_json=args.json, windows=windows))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_ticket
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        ticket = register.get(args.ref)
        print(render_ticket(ticket, register.occurrences(args.ref), register.audit(args.ref),
                            escalations=register.sent_escalations(args.ref),
                            outbox=register.outbox(ref=args.ref), as_json=args.json))
    return EXIT_OK


def _note(args: argparse.Namespace) -> int:
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        register.add_note(args.ref, args.text, who=who(args), now=_now())
        _changed(args, register, f"{args.ref}: note added")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        ticket = register.set_state(args.ref, args.state, who=who(args), now=_now(),
                                    note=args.note)
        text = f"{ticket.ref}: {ticket.state}"
        if ticket.state == "escalated_to_manufacturer":  # what the vendor will ask for
            text += (f"\n  vendor case pack: pbxdiag pack --ticket {ticket.ref} "
                     "--vendor-case")
        _changed(args, register, text)
    return EXIT_OK


def _book_visit(args: argparse.Namespace) -> int:
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        ticket = register.book_visit(args.ref, visit_date=args.date, engineer=args.engineer,
                                     parts=args.parts, who=who(args), now=_now())
        parts = ", ".join(ticket.visit_parts) or "no parts listed"
        _changed(args, register, f"{ticket.ref}: visit booked for {ticket.visit_date}, "
                                 f"{ticket.visit_engineer} ({parts})")
    return EXIT_OK


def _resolve(args: argparse.Namespace) -> int:
    from agent.tickets import Register
    from agent.tickets.lifecycle import RESOLUTION_STATES, path_to

    with Register(db_path(args)) as register:
        before = register.get(args.ref).state
        steps = path_to(args.ref, before, RESOLUTION_STATES[args.how])
        ticket = register.resolve(args.ref, args.how, who=who(args), now=_now(),
                                  note=args.note)
        via = f" (via {' → '.join(steps[:-1])})" if len(steps) > 1 else ""
        _changed(args, register, f"{ticket.ref}: {ticket.state}{via}")
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        kept = register.merge(args.ref, into=args.into, who=who(args), now=_now())
        _changed(args, register, f"{args.ref}: cancelled, merged into {kept.ref}")
    return EXIT_OK


def _escalate(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_escalations
    from agent.tickets import Register

    settings, quiet = None, None
    if args.inventory is not None:
        from agent.inventory import load_inventory
        from agent.maintenance import active

        inventory = load_inventory(args.inventory)
        settings = _settings(args.inventory)
        now = _now()

        def quiet(site_id: str) -> bool:
            site = inventory.sites.get(site_id)
            return site is not None and active(site.maintenance, now) is not None
    with Register(db_path(args)) as register:
        print(render_escalations(register.escalate_due(now=_now(), who=_who_cron(),
                                                       quiet=quiet)))
        if settings is None:
            return EXIT_OK
        return _deliver(register, settings)


def _stats(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_stats
    from agent.tickets import Register, compute_stats

    with Register(db_path(args)) as register:
        tickets = register.list_tickets(since=args.since)
    print(render_stats(compute_stats(tickets, now=_now(), since=args.since), as_json=args.json))
    return EXIT_OK


def _flush(args: argparse.Namespace) -> int:
    from agent.tickets import Register

    settings = _settings(args.inventory)
    with Register(db_path(args)) as register:
        return _deliver(register, settings, limit=args.limit, retry_now=args.now,
                        as_json=args.json)


def _outbox_list(args: argparse.Namespace) -> int:
    from agent.reports.tickets import render_outbox
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        messages = register.outbox(status=args.status)
    print(render_outbox(messages, as_json=args.json))
    return EXIT_OK


def _settings(inventory: Path) -> NotificationSettings:
    from agent.inventory import load_inventory
    from agent.tickets.settings import settings_from_inventory

    return settings_from_inventory(load_inventory(inventory))


def _deliver(register: Register, settings: NotificationSettings, *,
             limit: int | None = None, retry_now: bool = False, as_json: bool = False) -> int:
    """Flush and say what happened: sent, failed, and what still waits (with when)."""
    from agent.reports.tickets import render_flush
    from agent.tickets.flush import flush_outbox

    report = flush_outbox(register, settings, limit=limit, retry_now=retry_now)
    print(render_flush(report, now=_now(), as_json=as_json))
    return EXIT_OK if report.ok and not report.waiting else EXIT_CHECKS_FAILED


def _changed(args: argparse.Namespace, register: Register, text: str) -> None:
    """After a change: one line, or (``--json``) the ticket as ``show --json`` prints it."""
    if not args.json:
        print(text)
        return
    from agent.reports.tickets import render_ticket

    print(render_ticket(register.get(args.ref), register.occurrences(args.ref),
                        register.audit(args.ref), as_json=True,
                        escalations=register.sent_escalations(args.ref),
                        outbox=register.outbox(ref=args.ref)))


def _who_cron() -> str:
    try:
        return f"pbxdiag-escalate ({getpass.getuser()})"
    except (KeyError, OSError):
        return "pbxdiag-escalate"
