"""Panasonic SMDR as sites print it (shared/DOMAIN.md, docs/smdr.md), as a pure parser.

A stream mixes page headers (a form feed before each on most ports), rule lines,
error-log alarm lines and call records, not in time order. The layout — pattern A, B,
C or the hybrid systems' RS-232 format — is pinned by the site or told by the stream: a
header names it, otherwise the records must fit exactly one layout's columns. A stream
that fits none (or several) is reported as such, line by line, never read in a guessed
layout. The date order is told by a date whose first (DMY) or second (MDY) field is over
12; when nothing tells it, the layout's default is used and the stream says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from drivers.model import Alarm, AlarmLevel, CallDirection, CallRecord, Location
from drivers.panasonic.parsers import location_from_sub_code
from drivers.panasonic.smdr import columns, hybrid
from drivers.panasonic.smdr.columns import Fields, duration_seconds, ring_seconds
from drivers.smdr import (
    UNKNOWN,
    DateOrder,
    SmdrLine,
    SmdrOptions,
    SmdrRecord,
    SmdrStream,
    head_lines,
    hours_minutes,
    numbered_lines,
    to_call_record,
)
from drivers.textparse import BadLines

EMPTY_MARKER = "NO SMDR DATA"
WIDTHS = (8, 7, 5, 2, 25, 4, 8, 10, 2)
LINE_WIDTH = columns.PATTERN_A.width
FIELD_ENDS = columns.PATTERN_A.field_ends

_HEADER = re.compile(r"^\s*Date\s+Time\s+Ext")
_HEADER_B = re.compile(r"Dial Number\s+Duration\s+Cost")
_HEADER_RING = re.compile(r"Dial Number\s+Ring\s+Duration")
_RULE = re.compile(r"^[-=]{20,}\s*$")
_ALARM = re.compile(
    r"^(\d\d/\d\d/\d\d) (\d\d:\d\d(?:AM|PM)?) +(MJ|MN) ALM #(\d{3}) (\d\d)([ *])(\d{5})"
    r"(?: (.{0,36}))?$")
_DDI_AND_CALLER = re.compile(r"^(?:<D>(?P<ddi>[^<]*))?(?:<I>(?P<cid>.*))?$")
_MAJOR, _MINOR = AlarmLevel.MAJOR, AlarmLevel.MINOR
_CLASSIFIED = frozenset("E<L")  # dial numbers _classify_dial may read as not outgoing
_DEFAULT_ORDER: dict[str, DateOrder] = {"panasonic-hybrid": "MDY"}
_DATE_START = frozenset(" 0123456789")
_SCAN = 512  # lines searched for a header
_MEMO = 4096  # distinct values remembered per stream (durations, skipped lines)
_SAMPLE = 64  # record-shaped lines tried against every layout when no header names one
_LAYOUTS = (*columns.LAYOUTS, "panasonic-hybrid")

#: A line after its first pass: (number, raw, what) — what is a kind ("header", "rule",
#: "page", "error: …") or the split fields / alarm match still awaiting the date order.
_Pending = tuple[int, str, object]
_Split = Callable[[str], Fields | str]


def parse_stream(text: str, options: SmdrOptions | None = None) -> SmdrStream:
    """Every non-blank line of a Panasonic SMDR stream as one ``SmdrLine``."""
    options = options or SmdrOptions()
    layout = options.resolved_layout() or _layout_from(head_lines(text, _SCAN))
    told = _told_order(text, layout)
    order: DateOrder = options.date_order or told or _DEFAULT_ORDER.get(layout, "DMY")
    builder = _Builder(layout, order, options)
    fast = columns.FAST.get(layout)
    cols = columns.LAYOUTS.get(layout)
    if fast is not None and cols is not None:
        items = builder.fast(text, fast, {cols.width, cols.max_width})
    elif layout == "panasonic-hybrid":
        items = builder.hybrid(text)
    else:
        items = [builder.item((n, raw, _first_pass(raw.lstrip("\f"), _splitter(layout))))
                 for n, raw in numbered_lines(text)]
    return SmdrStream(layout, order, bool(options.date_order or told), items)


# A literal newline first lets the regex engine jump from line to line (3× faster than
# ``^`` with MULTILINE); the text is scanned with a newline put before it. Each pattern
# looks for one piece of evidence (a first field over 12: day first; a second field over
# 12: day second) and stops at the first: no list of every date is built.
_OVER_12 = r"(?:1[3-9]|[2-9]\d)"
_FIRST_OVER = re.compile(rf"\n\f*{_OVER_12}/\d\d/\d\d ")
_SECOND_OVER = re.compile(rf"\n\f*\d\d/{_OVER_12}/\d\d ")
# The hybrid systems' space-padded ``M/D/YY``; its matches include every one of the above.
_HYBRID_FIRST_OVER = re.compile(rf"\n[\f ]*{_OVER_12}/[ \d]?\d/\d\d ")
_HYBRID_SECOND_OVER = re.compile(rf"\n[\f ]*[ \d]?\d/{_OVER_12}/\d\d ")


def _told_order(text: str, layout: str) -> DateOrder | None:
    """The date order the stream's dated lines (records and alarms) tell: a first field
    over 12 is a day (DMY), a second over 12 is a day (MDY); both, or neither, tells
    nothing (``date_order_of`` over the same dates, without collecting them)."""
    if "/" not in text:
        return None
    text = "\n" + text
    first, second = ((_HYBRID_FIRST_OVER, _HYBRID_SECOND_OVER) if layout == "panasonic-hybrid"
                     else (_FIRST_OVER, _SECOND_OVER))
    day_first = first.search(text) is not None
    if day_first == (second.search(text) is not None):
        return None
    return "DMY" if day_first else "MDY"


def _first_pass(body: str, splitter: _Split | None) -> object:
    if not body.strip():
        return "page"
    if (body[0] in " D" and _HEADER.match(body)) or body.rstrip() == EMPTY_MARKER:
        return "header"
    if body[0] in "-=" and _RULE.match(body):
        return "rule"
    alarm = _ALARM.match(body.rstrip()) if "ALM #" in body else None
    if alarm is not None:
        return alarm
    if splitter is None:
        return "error: layout not told: no header, and the records fit no one layout"
    fields = splitter(body)
    return fields if isinstance(fields, tuple) else "error: " + fields


def _splitter(layout: str) -> _Split | None:
    if layout == "panasonic-hybrid":
        return hybrid.split
    cols = columns.LAYOUTS.get(layout)
    if cols is None:
        return None
    return lambda body: columns.split(cols, body)


def _layout_from(lines: list[str]) -> str:
    """The layout a header names, else the one layout the first records fit."""
    for body in lines:
        if _HEADER.match(body):
            if hybrid.HEADER.match(body):
                return "panasonic-hybrid"
            if _HEADER_B.search(body):
                return "panasonic-B"
            if _HEADER_RING.search(body):
                return "panasonic-C" if len(body.rstrip()) > 90 else "panasonic-A"
    sample = [body for body in lines
              if body.strip() and not _HEADER.match(body) and not _RULE.match(body)
              and _ALARM.match(body.rstrip()) is None][:_SAMPLE]
    fits = {name: 0 for name in _LAYOUTS}
    for name in _LAYOUTS:
        split = _splitter(name)
        assert split is not None
        fits[name] = sum(isinstance(split(body), tuple) for body in sample)
    ranked = sorted(fits.items(), key=lambda kv: kv[1], reverse=True)
    if ranked[0][1] == 0 or ranked[0][1] == ranked[1][1]:
        return UNKNOWN
    return ranked[0][0]


class _Builder:
    """Second pass: fields and alarm matches to records and alarms, dates cached (a log
    has few distinct stamps; ``datetime`` construction was a third of the parse)."""

    def __init__(self, layout: str, order: DateOrder, options: SmdrOptions) -> None:
        self.layout, self.order, self.time = layout, order, options.time
        self.stamps: dict[str, datetime | str] = {}
        self.locations: dict[str, Location | None] = {}
        self.skipped: dict[str, str] = {}

    def item(self, pending: _Pending) -> SmdrLine:
        number, raw, what = pending
        if isinstance(what, str):
            if what.startswith("error: "):
                return SmdrLine(number, self.layout, "error", raw, detail=what[7:])
            return SmdrLine(number, self.layout, "skip", raw, detail=what)
        if isinstance(what, re.Match):
            return self._alarm(number, raw, what)
        assert isinstance(what, tuple)
        record = self._record(what, raw)
        if isinstance(record, str):
            return SmdrLine(number, self.layout, "error", raw, detail=record)
        return SmdrLine(number, self.layout, "record", raw, record=record)

    def fast(self, text: str, pattern: re.Pattern[str], widths: set[int]) -> list[SmdrLine]:
        """The loop for fixed-column layouts, inlined: a full-width record line is split
        by one regular expression with no per-field ``strip()``; anything else (headers,
        alarms, lines whose trailing spaces were lost) takes the general path."""
        layout, match, stamps = self.layout, pattern.match, self.stamps
        splitter = _splitter(layout)
        incoming, outgoing = CallDirection.INCOMING, CallDirection.OUTGOING
        items: list[SmdrLine] = []
        append = items.append
        new = tuple.__new__  # a named tuple's own __new__ is a Python-level function
        rings: dict[str, int | None] = {"": None, "    ": None}
        durations: dict[str, int | None] = {"        ": None}
        for number, printed in enumerate(text.split("\n"), 1):
            raw = printed[:-1] if printed[-1:] == "\r" else printed
            m = match(raw) if len(raw) in widths else None
            if m is None:
                other_line = self._other(number, raw, splitter)
                if other_line is not None:
                    append(other_line)
                continue
            ext, co, dial, ring, duration, cost, account, cd = m.groups()
            dial = dial.rstrip()
            first = dial[:1]
            caller_id = ddi = ""
            if first == "<" and dial[1:3] == "I>":  # as _classify_dial reads it, no regex
                direction, caller_id = incoming, dial[3:]
            elif first in _CLASSIFIED:  # EXT…, LOG IN / LOG OUT, <D>…
                direction, caller_id, ddi = _classify_dial(dial)
            else:
                direction = outgoing
            if co is None and (direction is incoming or direction is outgoing):
                append(new(SmdrLine, (number, layout, "error", raw, None, None,
                                      "no CO line on an external call", 0)))
                continue
            key = raw[:16]
            at = stamps.get(key)
            if at is None:
                at = None if raw[0] == "*" else self.stamp(key[:8], key[9:16])
                if at is not None:
                    stamps[key] = at
            if type(at) is str:
                append(new(SmdrLine, (number, layout, "error", raw, None, None, at, 0)))
                continue
            ring_s = rings[ring] if ring in rings else _seconds(rings, ring)
            duration_s = (durations[duration] if duration in durations
                          else _seconds(durations, duration))
            record = new(SmdrRecord, (
                at, "", False, ext, co or "", dial, caller_id, ddi, ring_s, duration_s,
                cost or "", account.rstrip(), cd or "", direction, raw))
            append(new(SmdrLine, (number, layout, "record", raw, record, None, "", 0)))
        return items

    def hybrid(self, text: str) -> list[SmdrLine]:
        """The hybrid systems' loop: the common record line is read by one pattern
        (``hybrid.FAST``); anything else goes through the token reader and the general
        path, which read the common line the same way."""
        items: list[SmdrLine] = []
        append = items.append
        new = tuple.__new__
        match, stamps, layout = hybrid.FAST.match, self.stamps, self.layout
        intercom, incoming, outgoing = (CallDirection.INTERCOM, CallDirection.INCOMING,
                                        CallDirection.OUTGOING)
        for number, printed in enumerate(text.split("\n"), 1):
            raw = printed.rstrip("\r") if printed[-1:] == "\r" else printed
            if not raw or raw.isspace() or "\x00" in raw:  # as ``numbered_lines`` does
                raw = raw.replace("\x00", "")
                if not raw or (raw.isspace() and "\f" not in raw):
                    continue
            m = match(raw) if raw[0] in _DATE_START else None
            if m is not None:
                (date, transfer, time, ext, co, caller_id, dial, hours, minutes, seconds,
                 code) = m.groups()
                key = date + " " + time
                at = stamps.get(key)
                if at is None:
                    at = self.stamp(date, time if len(time) == 7 else time.rjust(7, "0"))
                    if len(stamps) < _MEMO:
                        stamps[key] = at
                if type(at) is not str:
                    if caller_id is not None:
                        direction, dial = incoming, "<I>" + caller_id
                    elif dial is None:
                        direction, dial, caller_id = outgoing, "", ""
                    else:
                        direction = intercom if dial.startswith("EXT") else outgoing
                        caller_id = ""
                    record = new(SmdrRecord, (
                        at, "", False, ext or "", co, dial, caller_id, "", None,
                        int(hours) * 3600 + int(minutes) * 60 + int(seconds), "",
                        "" if set(code) <= {"."} else code, "TR" if transfer else "",
                        direction, raw))
                    append(new(SmdrLine, (number, layout, "record", raw, record, None, "",
                                          0)))
                    continue
            fields = hybrid.split(raw) if raw[0] in _DATE_START else None
            read = self._record(fields, raw) if isinstance(fields, tuple) else None
            if read is None or isinstance(read, str):
                append(self.item((number, raw, _first_pass(raw.lstrip("\f"),
                                                            hybrid.split))))
            else:
                append(new(SmdrLine, (number, layout, "record", raw, read, None, "", 0)))
        return items

    def _other(self, number: int, raw: str, splitter: _Split | None) -> SmdrLine | None:
        """A line the fast pattern did not take; None for a blank one. Page headers and
        rules repeat on every page, so what a skipped line was is remembered by its text."""
        if not raw or raw.isspace() or "\x00" in raw:
            raw = raw.replace("\x00", "")
            if not raw or (raw.isspace() and "\f" not in raw):
                return None
        skipped = self.skipped.get(raw)
        if skipped is not None:
            return tuple.__new__(SmdrLine, (number, self.layout, "skip", raw, None, None,
                                            skipped, 0))
        if "ALM #" in raw and (alarm := _ALARM.match(raw.rstrip())):
            return self._alarm(number, raw, alarm)
        item = self.item((number, raw, _first_pass(raw.lstrip("\f"), splitter)))
        if item.kind == "skip" and len(self.skipped) < _MEMO:
            self.skipped[raw] = item.detail
        return item

    def stamp(self, date: str, time: str) -> datetime | str:
        """The printed date and time, or why not (a string)."""
        key = date + " " + time
        known = self.stamps.get(key)
        if known is not None:
            return known
        value: datetime | str
        if self.time is not None and (time[5:7] in ("AM", "PM")) != (self.time == "12h"):
            value = f"time {time.strip()!r} is not {self.time} as the site is pinned"
        else:
            try:
                first, second, year = (int(part) for part in date.split("/"))  # 1/ 4/05
                day, month = (first, second) if self.order == "DMY" else (second, first)
                value = datetime(2000 + year, month, day, *hours_minutes(time))
            except (ValueError, IndexError):
                value = f"bad date or time {date!r} {time.strip()!r} ({self.order})"
        self.stamps[key] = value
        return value

    def _record(self, f: Fields, raw: str) -> SmdrRecord | str:
        date, time, ext, co, dial, ring, duration, cost, account, condition = f
        if not ext and self.layout != "panasonic-hybrid":
            return "no extension"
        direction, caller_id, ddi = _classify_dial(dial)
        if not co and direction not in (CallDirection.INTERCOM, CallDirection.OTHER):
            return "no CO line on an external call"
        at: datetime | None = None
        if date[0] != "*":
            stamp = self.stamp(date, time)
            if isinstance(stamp, str):
                return stamp
            at = stamp
        try:
            duration_s = duration_seconds(duration)
        except ValueError:
            return f"bad duration {duration!r}"
        return SmdrRecord(at, "", False, ext, co, dial, caller_id, ddi, ring_seconds(ring),
                          duration_s, cost, account, condition, direction, raw)

    def _location(self, sub: str) -> Location | None:
        """Cached: a site has a few dozen sub codes, and ``Location`` is immutable."""
        if sub not in self.locations:
            self.locations[sub] = location_from_sub_code(sub)
        return self.locations[sub]

    def _alarm(self, number: int, raw: str, m: re.Match[str]) -> SmdrLine:
        date, time, level, code, bb, slot_kind, sub, message = m.groups()
        seen = self.stamp(date, time.ljust(7))
        if isinstance(seen, str):
            return SmdrLine(number, self.layout, "error", raw, detail=seen)
        virtual = slot_kind == "*"
        sub_code = sub if bb == "00" and not virtual else f"{bb}{slot_kind}{sub}"
        # Positional: a third cheaper than keywords, and a log can be a third alarm lines.
        alarm = Alarm(_MAJOR if level == "MJ" else _MINOR, code, sub_code,
                      None if virtual else self._location(sub), (message or "").rstrip(), seen,
                      raw.rstrip())
        return tuple.__new__(SmdrLine, (number, self.layout, "alarm", raw, None, alarm, "", 0))


def _seconds(known: dict[str, int | None], text: str) -> int | None:
    """Seconds of a ring ``M'SS`` or duration ``HH:MM'SS`` the fast pattern matched,
    remembered in ``known`` (a stream has few distinct ones)."""
    if len(text) == 4:
        value = int(text[0]) * 60 + int(text[2:4])
    else:
        value = int(text[0:2]) * 3600 + int(text[3:5]) * 60 + int(text[6:8])
    if len(known) < _MEMO:
        known[text] = value
    return value


def _classify_dial(dial: str) -> tuple[CallDirection, str, str]:
    if dial.startswith("EXT"):
        return CallDirection.INTERCOM, "", ""
    if dial in ("LOG IN", "LOG OUT"):
        return CallDirection.OTHER, "", ""
    if dial.startswith(("<I>", "<D>")):
        match = _DDI_AND_CALLER.match(dial)
        if match is not None:
            return CallDirection.INCOMING, match["cid"] or "", match["ddi"] or ""
    return CallDirection.OUTGOING, "", ""


# The console driver's API (pattern A as the simulator prints it over ``SMDR``).

def parse_smdr(text: str, options: SmdrOptions | None = None
               ) -> tuple[list[CallRecord], list[Alarm], BadLines]:
    """Records and interleaved alarm lines; anything else is reported, never dropped."""
    records: list[CallRecord] = []
    alarms: list[Alarm] = []
    bad: BadLines = []
    for item in parse_stream(text, options).items:
        if item.record is not None:
            records.append(to_call_record(item.record))
        elif item.alarm is not None:
            alarms.append(item.alarm)
        elif item.kind == "error":
            bad.append((item.line, item.raw.rstrip()))
    return records, alarms, bad


def parse_record(line: str) -> CallRecord | None:
    """One pattern-A line (day-first dates), or None."""
    options = SmdrOptions(layout="panasonic-A", date_order="DMY")
    records, _, _ = parse_smdr(line, options)
    return records[0] if records else None


def split_columns(line: str) -> list[str] | None:
    """Pattern A's nine fields (unstripped widths are not kept), or None."""
    fields = columns.split(columns.PATTERN_A, line.rstrip("\r\n"))
    if isinstance(fields, str):
        return None
    return [f for i, f in enumerate(fields) if i != 7]
