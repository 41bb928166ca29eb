"""The vendor-neutral SMDR stream: options, one item per input line, and shared helpers.

A saved SMDR log (a call logger's file, a LAN-port session) is a stream of lines in one
layout chosen by the site's installer. Each vendor's parser reads the whole stream, tells
its layout from the header and the records (or takes it pinned from the inventory), and
returns one ``SmdrLine`` per non-blank input line — a record, an alarm, a skipped header
or rule, a continuation, or an error saying why — so nothing is dropped and every report
points at the line number the file itself has (lines end at ``\\n`` only: a form feed
before a page header is not a line end, unlike ``str.splitlines()``).

Records are ``SmdrRecord`` named tuples rather than the frozen ``CallRecord``: building a
frozen dataclass costs about three times a whole line's ``split()``, and a long log is
mostly records. ``to_call_record`` gives the model type for a driver's getter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from drivers.model import Alarm, CallDirection, CallRecord

DateOrder = Literal["DMY", "MDY"]
TimeFormat = Literal["12h", "24h"]
UNKNOWN = "unknown"

PANASONIC_LAYOUTS = ("panasonic-A", "panasonic-B", "panasonic-C", "panasonic-hybrid")
TOSHIBA_LAYOUTS = ("toshiba-R1.02", "toshiba-R1.03", "toshiba-DK")
#: Short names a site or a command line may use for a layout.
LAYOUT_ALIASES = {"A": "panasonic-A", "B": "panasonic-B", "C": "panasonic-C",
                  "hybrid": "panasonic-hybrid", "R1.02": "toshiba-R1.02",
                  "R1.03": "toshiba-R1.03", "DK": "toshiba-DK"}


#: What else each layout lets a site choose: (date orders, clock formats). The hybrid
#: systems print a 12-hour clock only; Toshiba prints ``MO/DD`` (DK no date) and a
#: 24-hour clock, so there is nothing to pin.
PINNABLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "panasonic-A": (("DMY", "MDY"), ("12h", "24h")),
    "panasonic-B": (("DMY", "MDY"), ("12h", "24h")),
    "panasonic-C": (("DMY", "MDY"), ("12h", "24h")),
    "panasonic-hybrid": (("DMY", "MDY"), ("12h",)),
    "toshiba-R1.02": ((), ()), "toshiba-R1.03": ((), ()), "toshiba-DK": ((), ()),
}
DATE_ORDERS = ("DMY", "MDY")
TIME_FORMATS = ("12h", "24h")


def pin_problem(vendor: str, layout: str | None, date_order: str | None,
                time: str | None) -> tuple[str, str] | None:
    """Why a site's pin (inventory ``smdr:``) contradicts itself or the site's vendor, as
    (the key at fault, the message); None when it holds together. Values themselves are
    checked against ``LAYOUT_ALIASES``, ``DATE_ORDERS`` and ``TIME_FORMATS`` (schema)."""
    name = LAYOUT_ALIASES.get(layout, layout) if layout is not None else None
    if name is not None and not name.startswith(vendor + "-"):
        return "layout", f"layout {layout} is not a {vendor} layout"
    if name is None and vendor == "toshiba" and (date_order or time):
        name = "toshiba-R1.02"  # every Toshiba layout: nothing else to pin
    if name is None:
        return None
    orders, clocks = PINNABLE[name]
    if date_order is not None and date_order not in orders:
        return "date_order", f"layout {layout or vendor} prints no date order to pin"
    if time is not None and time not in clocks:
        only = f" (it prints {', '.join(clocks)} only)" if clocks else ""
        return "time", f"layout {layout or vendor} has no {time} clock to pin{only}"
    return None


@dataclass(frozen=True, slots=True)
class SmdrOptions:
    """What a site pins (inventory ``smdr: {layout: B, date_order: DMY, time: 12h}``).

    ``None`` means "tell it from the stream"; a pinned value is checked against each line
    rather than trusted blindly, so a mis-pinned site shows errors instead of wrong data.
    """

    layout: str | None = None
    date_order: DateOrder | None = None
    time: TimeFormat | None = None

    def resolved_layout(self) -> str | None:
        return None if self.layout is None else LAYOUT_ALIASES.get(self.layout, self.layout)


class SmdrRecord(NamedTuple):
    """One call record as printed, fields normalised; ``raw`` is the line (or lines)."""

    at: datetime | None  # None: ``**`` placeholder (clock changed) or no date printed
    at_text: str  # ISO 8601 as printed where ``at`` cannot say it (a DK time of day)
    year_inferred: bool
    extension: str
    co: str
    dialled: str
    caller_id: str
    ddi: str
    ring: int | None
    duration: int | None
    cost: str
    account_code: str
    condition: str
    direction: CallDirection
    raw: str


class SmdrLine(NamedTuple):
    """One non-blank input line and what it was. ``kind`` says which field is set:
    ``record``, ``alarm``, ``skip`` (``detail``: header, rule, page), ``continuation``
    (``continuation_of``: the record's line number) or ``error`` (``detail``: why)."""

    line: int
    layout: str
    kind: str
    raw: str
    record: SmdrRecord | None = None
    alarm: Alarm | None = None
    detail: str = ""
    continuation_of: int = 0


@dataclass(frozen=True, slots=True)
class SmdrStream:
    """A parsed stream: its items and what was told about it (for the summary)."""

    layout: str
    date_order: DateOrder | None
    date_order_told: bool  # False: the stream did not tell it and no pin said it
    items: list[SmdrLine]


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(number, line)`` for each non-blank line, split on ``\\n`` only; a trailing CR
    and NULs (line noise) are removed, form feeds kept for the caller to see (a line
    holding only a form feed is a page break, reported, not blank)."""
    for number, printed in enumerate(text.split("\n"), 1):
        line = printed.rstrip("\r") if printed.endswith("\r") else printed
        if "\x00" in line:
            line = line.replace("\x00", "")
        if line and (not line.isspace() or "\f" in line):  # a lone form feed is a page
            yield number, line


def head_lines(text: str, count: int) -> list[str]:
    """The first ``count`` non-blank lines, leading form feeds removed, without walking
    the whole text (layout detection looks only at a stream's head)."""
    end = -1
    for _ in range(count):
        end = text.find("\n", end + 1)
        if end < 0:
            end = len(text)
            break
    return [raw.lstrip("\f") for _, raw in numbered_lines(text[:end])]


def hours_minutes(text: str) -> tuple[int, int]:
    """``HH:MM`` or 12-hour ``HH:MMAM``/``HH:MMPM`` (``12:11AM`` is 00:11); ValueError."""
    hour, minute = int(text[0:2]), int(text[3:5])
    if text[2] != ":" or not (0 <= minute < 60):
        raise ValueError(text)
    suffix = text[5:7]
    if suffix in ("AM", "PM"):
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if suffix == "PM" else 0)
    elif suffix.strip() or hour > 23:
        raise ValueError(text)
    return hour, minute


def date_order_of(pairs: set[tuple[int, int]]) -> DateOrder | None:
    """The order a stream's ``AA/BB`` date prefixes tell: a first field over 12 is a day
    (DMY), a second over 12 is a day (MDY); both, or neither, tells nothing."""
    first = any(a > 12 for a, _ in pairs)
    second = any(b > 12 for _, b in pairs)
    if first == second:
        return None
    return "DMY" if first else "MDY"


def year_for(month: int, day: int, today: date | None) -> int:
    """The latest year that does not put ``month/day`` after ``today`` (no year printed)."""
    if today is None:
        return 2000
    return today.year if (month, day) <= (today.month, today.day) else today.year - 1


def to_call_record(r: SmdrRecord) -> CallRecord:
    """The model's ``CallRecord`` (the drivers' ``call_records`` getter returns these)."""
    # Positional (the model's field order): a third cheaper than keywords, once per record.
    return CallRecord(r.at, r.extension, r.co, r.direction, r.dialled, r.caller_id, r.ddi,
                      r.ring, r.duration, r.account_code, r.condition, r.raw, r.cost,
                      r.year_inferred)


def to_json(item: SmdrLine) -> dict[str, Any]:
    """The ``pbxdiag smdr parse --json`` object for one line (docs/smdr.md)."""
    out: dict[str, Any] = {"line": item.line, "layout": item.layout}
    if item.record is not None:
        r = item.record
        out["record"] = {
            "at": r.at.isoformat() if r.at is not None else (r.at_text or None),
            "year_inferred": r.year_inferred, "extension": r.extension, "co": r.co,
            "dialled": r.dialled, "caller_id": r.caller_id, "ring": r.ring,
            "duration": r.duration, "cost": r.cost, "account_code": r.account_code,
            "condition": r.condition, "direction": r.direction.value, "raw": r.raw}
    elif item.alarm is not None:
        a = item.alarm
        out["alarm"] = {"at": a.first_seen.isoformat() if a.first_seen else None,
                        "level": a.level.value, "code": a.code, "sub_code": a.sub_code,
                        "message": a.message}
    elif item.kind == "skip":
        out["skip"] = item.detail
    elif item.kind == "continuation":
        out["continuation_of"] = item.continuation_of
    else:
        out["error"] = item.detail
    return out
