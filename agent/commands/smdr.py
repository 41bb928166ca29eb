"""``pbxdiag smdr parse``: read saved SMDR logs (a call logger's files) in any layout.

A maintainer often has nothing of a site but what its call logger kept; this reads those
files with the same pure parsers the drivers use and says, per line, what each was —
and, per file, which layout it was read in and whether the date order was told by the
stream or assumed. Bytes are decoded as latin-1 so no byte of a noisy serial capture can
stop the read. Exit 0 when no line is an error, 1 when some are, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.commands import add_inventory_option
from agent.errors import EXIT_CHECKS_FAILED, EXIT_OK, InputError

if TYPE_CHECKING:
    from drivers.smdr import SmdrOptions, SmdrStream

VENDORS = ("panasonic", "toshiba")
LAYOUT_CHOICES = ("A", "B", "C", "hybrid", "R1.02", "R1.03", "DK")


def register(commands: Any) -> None:
    smdr = commands.add_parser("smdr", help="read SMDR call records and alarm lines")
    actions = smdr.add_subparsers(dest="smdr_command", required=True, metavar="ACTION")
    parse = actions.add_parser("parse", help="parse saved SMDR logs into records, alarms "
                                             "and rejected lines")
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE",
                       help="saved SMDR log(s), as the call logger or a capture kept them")
    parse.add_argument("--vendor", choices=VENDORS, default=None,
                       help="the PBX's vendor (default: from --layout, else the vendor "
                            "whose layouts read the file with fewer rejected lines)")
    parse.add_argument("--layout", choices=LAYOUT_CHOICES, default=None,
                       help="pin the layout (Panasonic A, B, C, hybrid; Toshiba R1.02, "
                            "R1.03, DK) instead of telling it from the header and records")
    parse.add_argument("--date-order", choices=("DMY", "MDY"), default=None,
                       help="pin the date order (default: told by a date field over 12, "
                            "else the layout's default, and the summary says so)")
    parse.add_argument("--time", choices=("12h", "24h"), default=None,
                       help="pin the clock format; lines in the other one are rejected")
    parse.add_argument("--json", action="store_true",
                       help="print one JSON object per non-blank input line")
    parse.add_argument("--site", default=None,
                       help="read as this inventory site is pinned (its smdr: layout, date "
                            "order, clock; options given here win) and its vendor")
    add_inventory_option(parse, required=False, help="the inventory that names --site")
    parse.set_defaults(handler=_parse)
    _register_monitor(actions)
    _register_calls(actions)


def _parse(args: argparse.Namespace) -> int:
    from drivers.smdr import SmdrOptions

    vendor, pin = _site_pin(args)
    options = SmdrOptions(layout=args.layout or pin.layout,
                          date_order=args.date_order or pin.date_order,
                          time=args.time or pin.time)
    if vendor is not None and options.layout is not None and (
            (options.layout in ("R1.02", "R1.03", "DK")) != (vendor == "toshiba")):
        raise InputError(f"layout {options.layout} is not a {vendor} layout")
    texts = [(path, _read(path)) for path in args.files]
    totals: Counter[str] = Counter()
    by_layout: Counter[str] = Counter()
    for path, (text, today) in texts:
        stream = _stream(text, today, vendor, options)
        counts = Counter(item.kind for item in stream.items)
        totals.update(counts)
        totals["lines"] += len(stream.items)
        by_layout[stream.layout] += len(stream.items)
        _print(path, stream, as_json=args.json)
        _summary(path, stream, counts)
    if len(texts) > 1:
        layouts = ", ".join(f"{name} {n}" for name, n in sorted(by_layout.items()))
        print(f"total: {_counts(totals, totals['lines'])}; by layout: {layouts}",
              file=sys.stderr)
    return EXIT_CHECKS_FAILED if totals["error"] else EXIT_OK


def _site_pin(args: argparse.Namespace) -> tuple[str | None, SmdrOptions]:
    """The vendor and the SMDR pin to read with: ``--site``'s from the inventory (bad
    input if the site is unknown or ``--vendor`` contradicts it), else the options'."""
    from agent.inventory import load_inventory
    from drivers.smdr import SmdrOptions

    if args.site is None:
        return args.vendor, SmdrOptions()
    if args.inventory is None:
        raise InputError("--site needs --inventory (or PBXDIAG_INVENTORY, or inventory: in "
                         "config.yaml)")
    site = load_inventory(args.inventory).site(args.site)
    if site.vendor not in VENDORS:
        raise InputError(f"site {site.id!r} is a {site.vendor} PBX: SMDR is read for "
                         f"{' and '.join(VENDORS)} only", path=str(args.inventory))
    if args.vendor is not None and args.vendor != site.vendor:
        raise InputError(f"--vendor {args.vendor} but site {site.id!r} is {site.vendor}",
                         path=str(args.inventory))
    return site.vendor, site.smdr or SmdrOptions()


def _read(path: Path) -> tuple[str, date]:
    """The text (latin-1: every byte is a character) and the file's date, from which a
    layout without a year gets its year (the parsers read no clock)."""
    try:
        data = path.read_bytes()
        modified = datetime.fromtimestamp(path.stat().st_mtime).date()
    except IsADirectoryError:
        raise InputError("is a directory, not an SMDR log", path=str(path)) from None
    except OSError as err:
        raise InputError(err.strerror or "cannot be read", path=str(path)) from None
    return data.decode("latin-1"), modified


def _stream(text: str, today: date, vendor: str | None, options: SmdrOptions) -> SmdrStream:
    from drivers.panasonic.smdr import parse_stream as panasonic
    from drivers.smdr import UNKNOWN
    from drivers.toshiba.smdr import parse_stream as toshiba

    layout = options.resolved_layout()
    if vendor is None and layout is not None:
        vendor = layout.split("-")[0]
    if vendor == "panasonic":
        return panasonic(text, options)
    if vendor == "toshiba":
        return toshiba(text, options, today=today)
    candidates = [panasonic(text, options), toshiba(text, options, today=today)]
    return min(candidates, key=lambda s: (s.layout == UNKNOWN,
                                          sum(i.kind == "error" for i in s.items)))


def _print(path: Path, stream: SmdrStream, *, as_json: bool) -> None:
    from drivers.smdr import to_json

    out = sys.stdout
    if as_json:
        for item in stream.items:
            out.write(json.dumps({"file": str(path), **to_json(item)}) + "\n")
        return
    for item in stream.items:
        where = f"{path.name}:{item.line}"
        if item.record is not None:
            r = item.record
            at = r.at.isoformat(sep=" ") if r.at is not None else (r.at_text or "**")
            duration = "" if r.duration is None else str(r.duration)
            out.write(f"{where:<24} {at:<19} {r.extension:>5} {r.co:>4} {r.direction.value:<8}"
                      f" {r.dialled[:28]:<28} {duration:>6} {r.cost:<10} {r.condition}\n")
        elif item.alarm is not None:
            a = item.alarm
            at = a.first_seen.isoformat(sep=" ") if a.first_seen else ""
            out.write(f"{where:<24} {at:<19} ALARM {a.level.value} #{a.code} {a.sub_code} "
                      f"{a.message}\n")
        elif item.kind == "error":
            out.write(f"{where:<24} REJECTED {item.detail}: {item.raw.strip()[:60]!r}\n")


def _summary(path: Path, stream: SmdrStream, counts: Counter[str]) -> None:
    order = ""
    if stream.date_order is not None:
        order = f"; date order {stream.date_order}" + (
            "" if stream.date_order_told else " (assumed: the stream does not tell it)")
    print(f"{path}: {_counts(counts, len(stream.items))}; layout {stream.layout}{order}",
          file=sys.stderr)


def _counts(counts: Counter[str], lines: int) -> str:
    return (f"{lines} lines, {counts['record']} records, {counts['alarm']} alarms, "
            f"{counts['error']} rejected, {counts['skip']} skipped, "
            f"{counts['continuation']} continuations")



# --- monitor and calls (docs/smdr.md "The monitor") -------------------------------------


def _register_monitor(actions: Any) -> None:
    from agent.commands import add_db_option, add_inventory_option

    monitor = actions.add_parser("monitor", help="collect SMDR records and alarm lines from "
                                                 "every site with an smdr_link, until stopped")
    add_inventory_option(monitor)
    add_db_option(monitor)
    monitor.add_argument("--sites", default=None, metavar="A,B",
                         help="only these sites (comma-separated ids)")
    monitor.add_argument("--log-file", type=Path, default=None,
                         help="structured (JSON lines) log; default: XDG data dir/"
                              "smdr-monitor.log")
    monitor.add_argument("--output", type=Path, default=None,
                         help="where confirming runs' results and the line locks go "
                              "(default: XDG data dir, as for pbxdiag run)")
    monitor.add_argument("--no-signals", action="store_true",
                         help="collect only: never start a confirming health-check run "
                              "for a silent link or missing outgoing calls")
    monitor.set_defaults(handler=_monitor)


def _register_calls(actions: Any) -> None:
    from agent.commands import add_db_option

    calls = actions.add_parser("calls", help="show the call records the monitor collected")
    calls.add_argument("--site", required=True, help="the site id")
    calls.add_argument("--since", default=None, metavar="WHEN",
                       help="records printed at or after WHEN: an ISO date or date-time "
                            "(the PBX's local time), or an age such as 30m, 24h, 7d")
    calls.add_argument("--alarms", action="store_true", help="include the alarm lines")
    calls.add_argument("--json", action="store_true", help="one JSON object per line")
    add_db_option(calls)
    calls.set_defaults(handler=_calls)


def _monitor(args: argparse.Namespace) -> int:
    from agent import logsetup
    from agent.commands import db_path
    from agent.inventory import load_inventory
    from agent.paths import default_data_dir
    from agent.smdr.monitor import run_monitor, select_sites

    inventory = load_inventory(args.inventory)
    wanted = [s.strip() for s in args.sites.split(",") if s.strip()] if args.sites else None
    if args.sites is not None and not wanted:
        raise InputError("--sites: name at least one site")
    selection = select_sites(inventory, wanted)
    for name, why in selection.skipped:
        print(f"{name}: left alone ({why})", file=sys.stderr)
    if not selection.sites:
        raise InputError("no site to monitor: give a site an smdr_link in the inventory",
                         path=str(args.inventory))
    logsetup.configure(log_file=args.log_file or default_data_dir() / "smdr-monitor.log")
    names = ", ".join(s.id for s in selection.sites)
    print(f"monitoring SMDR of {len(selection.sites)} site(s): {names}", file=sys.stderr)
    confirmer = None if args.no_signals else _confirmer(args, inventory)
    return run_monitor(selection.sites, db_path(args), confirmer=confirmer)


def _confirmer(args: argparse.Namespace, inventory: Any) -> Any:
    """The confirming runs' health check, filed as ``pbxdiag run`` files (docs/smdr.md)."""
    from agent.commands import db_path, playbook_argument
    from agent.paths import default_data_dir
    from agent.playbook import load_playbook
    from agent.smdr.confirm import Confirmer
    from agent.tickets.settings import settings_from_inventory

    notifications = settings_from_inventory(inventory) if inventory.notifications else None
    return Confirmer(load_playbook(playbook_argument("health-check")),
                     output_dir=args.output if args.output is not None else default_data_dir(),
                     db_path=db_path(args), notifications=notifications)


def _calls(args: argparse.Namespace) -> int:
    from agent.commands import db_path
    from agent.tickets.storage.smdr import SmdrLog

    since = _since(args.since)
    kinds = ("record", "alarm") if args.alarms else ("record",)
    with SmdrLog(db_path(args)) as smdr_log:
        items = smdr_log.items(site_id=args.site, kinds=kinds, since=since)
    out = sys.stdout
    for item in items:
        if args.json:
            out.write(json.dumps({"site": item.site_id, "position": item.pos, "kind": item.kind,
                                  item.kind: item.data, "stored_at": item.stored_at.isoformat()},
                                 sort_keys=True) + "\n")
        elif item.kind == "record":
            d = item.data
            duration = "" if d.get("duration") is None else str(d["duration"])
            out.write(f"{item.pos:>7} {item.at or '':<19} {d.get('extension', ''):>5} "
                      f"{d.get('co', ''):>4} {d.get('direction', ''):<8} "
                      f"{str(d.get('dialled', ''))[:28]:<28} {duration:>6} "
                      f"{d.get('condition', '')}\n")
        else:
            d = item.data
            out.write(f"{item.pos:>7} {item.at or '':<19} ALARM {d.get('level')} "
                      f"#{d.get('code')} {d.get('sub_code')} {d.get('message')}"
                      f"  [{item.filed or 'not filed yet'}]\n")
    print(f"{args.site}: {len(items)} item(s)" + (f" since {since}" if since else ""),
          file=sys.stderr)
    return EXIT_OK


def _since(text: str | None) -> str | None:
    """``--since`` as the PBX-local ISO text the stored times are compared with."""
    import re
    from datetime import timedelta

    if text is None:
        return None
    age = re.fullmatch(r"(\d{1,6})([mhd])", text.strip())
    if age is not None:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[age[2]]
        moment = datetime.now() - timedelta(**{unit: int(age[1])})
        return moment.replace(microsecond=0).isoformat()
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=None).isoformat()
    except ValueError:
        raise InputError(f"--since: {text!r} is neither an ISO date or date-time nor an age "
                         "like 24h") from None
