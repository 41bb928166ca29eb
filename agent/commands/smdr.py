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

