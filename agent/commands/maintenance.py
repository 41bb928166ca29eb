"""``pbxdiag sites maintenance``: put a site in a maintenance window, list them, end one.

``sites maintenance SITE --until 4h --reason "card swap"`` keeps the window in the ticket
register with who set it; ``--list`` shows the windows in force or planned (the
register's and the inventory's); ``--end SITE`` ends the site's register windows now.
While a site is in a window its runs file no ticket and mail no one, and escalation
sweeps pass it by (docs/tickets.md "Maintenance windows"). Exit 0 done, 2 bad input (an
unknown site, a ``--until`` that does not read or has passed, nothing to end).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agent.commands import add_db_option, add_inventory_option, db_path, who
from agent.errors import EXIT_OK, InputError

if TYPE_CHECKING:
    from agent.inventory import Inventory
    from agent.maintenance import Window


def add(actions: Any) -> None:
    """The ``maintenance`` action of ``pbxdiag sites``."""
    parser: argparse.ArgumentParser = actions.add_parser(
        "maintenance", help="put a site in a maintenance window (no tickets, no mail), "
                            "list the windows, or end one early",
        description="While a site is in a maintenance window, runs are recorded but file "
                    "no ticket and send no mail, and escalations wait.")
    parser.add_argument("site", nargs="?", default=None,
                        help="site id from the inventory (to set a window)")
    parser.add_argument("--until", default=None, metavar="WHEN",
                        help="end of the window: a duration from now (4h, 90m, 1d, 1h30m) "
                             "or an ISO 8601 date-time (no zone: Europe/London)")
    parser.add_argument("--from", dest="start", default=None, metavar="WHEN",
                        help="start of the window, ISO 8601 (default: now)")
    parser.add_argument("--reason", default=None,
                        help="why: shown in run output and tickets list")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true",
                      help="list the windows in force or planned")
    what.add_argument("--end", default=None, metavar="SITE",
                      help="end this site's windows now")
    parser.add_argument("--by", default=None, metavar="NAME",
                        help="who sets or ends the window (default: your login name)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_inventory_option(parser, help="the inventory YAML file that names the site")
    add_db_option(parser)
    parser.set_defaults(handler=_maintenance)


def _maintenance(args: argparse.Namespace) -> int:
    from agent.inventory import load_inventory

    inventory = load_inventory(args.inventory)
    now = datetime.now(UTC)
    if args.list:
        return _list(args, inventory, now)
    if args.end is not None:
        return _end(args, inventory, now)
    if args.site is None:
        raise InputError("sites maintenance: name a SITE (with --until and --reason), "
                         "or give --list or --end SITE")
    return _set(args, inventory, now)


def _set(args: argparse.Namespace, inventory: Inventory, now: datetime) -> int:
    from agent.maintenance import check_reason, parse_moment, parse_until
    from agent.tickets import Register

    site = inventory.site(args.site)
    if args.until is None:
        raise InputError("--until: say when the window ends (4h, 90m, or an ISO date-time)")
    if args.reason is None:
        raise InputError("--reason: say why the site is in maintenance")
    reason = check_reason(args.reason)
    try:
        starts = parse_moment(args.start).astimezone(UTC) if args.start else now
    except ValueError as err:
        raise InputError(f"--from: {err}") from None
    try:
        ends = parse_until(args.until, now).astimezone(UTC)
    except ValueError as err:
        raise InputError(f"--until: {err}") from None
    with Register(db_path(args)) as register:
        window = register.set_maintenance(site.id, starts=starts, ends=ends, reason=reason,
                                          who=who(args), now=now)
    _print(args, [window], f"{site.id}: in maintenance {window.describe()}")
    return EXIT_OK


def _end(args: argparse.Namespace, inventory: Inventory, now: datetime) -> int:
    from agent.maintenance import active
    from agent.tickets import Register

    site = inventory.site(args.end)
    with Register(db_path(args)) as register:
        ended = register.end_maintenance(site.id, who=who(args), now=now)
    if not ended:
        held = active(site.maintenance, now)
        if held is not None:
            raise InputError(f"{site.id}: its window comes from the inventory ({held.reason}):"
                             " remove it from the file to end it", path=str(args.inventory))
        raise InputError(f"{site.id}: not in a maintenance window")
    _print(args, ended, f"{site.id}: maintenance ended ({len(ended)} window"
                        f"{'s' * (len(ended) != 1)})")
    return EXIT_OK


def _list(args: argparse.Namespace, inventory: Inventory, now: datetime) -> int:
    from agent.reports.summary import when
    from agent.tickets import Register

    with Register(db_path(args)) as register:
        stored = register.maintenance_windows()
    windows = [w for w in [*stored, *(w for s in inventory.sites.values()
                                      for w in s.maintenance)] if w.effective_end > now]
    windows.sort(key=lambda w: (w.starts, w.site_id))
    lines = [f"{w.site_id:<24} {'now' if w.covers(now) else 'planned':<8} from "
             f"{when(w.starts)} {w.describe()}" for w in windows]
    _print(args, windows, "\n".join(lines) or "no maintenance windows")
    return EXIT_OK


def _print(args: argparse.Namespace, windows: list[Window], text: str) -> None:
    print(json.dumps([w.to_json() for w in windows], indent=2) if args.json else text)
