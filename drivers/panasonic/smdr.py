"""Panasonic SMDR, 80-column pattern A (shared/DOMAIN.md), as a pure parser.

The stream mixes call records with page headers, rule lines and error-log alarm lines;
records are not in time order. Columns are fixed width with single spaces between:
date 8, time 7, ext 5, CO 2, dial number 25, ring 4, duration 8, account code 10, CD 2.
"""

from __future__ import annotations

import re
from datetime import datetime

from drivers.model import Alarm, CallDirection, CallRecord
from drivers.panasonic.parsers import parse_error_line
from drivers.textparse import BadLines, day_month_year

WIDTHS = (8, 7, 5, 2, 25, 4, 8, 10, 2)
EMPTY_MARKER = "NO SMDR DATA"
_HEADER = re.compile(r"^\s*Date\s+Time\s+Ext\s+CO\s+Dial Number")
_RULE = re.compile(r"^-{20,}\s*$")
_RING = re.compile(r"^(\d+)'(\d\d)$")
_DURATION = re.compile(r"^(\d\d):(\d\d)'(\d\d)$")
_DDI_AND_CALLER = re.compile(r"^(?:<D>(?P<ddi>[^<]*))?(?:<I>(?P<cid>.*))?$")
_CONDITIONS = frozenset({"", "TR", "FW", "D0", "NA", "RC", "AN", "RM"})


LINE_WIDTH = sum(WIDTHS) + len(WIDTHS)  # 80: every field is followed by one space
#: Where a field ends: a line whose trailing spaces were lost in transit must still end
#: on one of these, otherwise it was cut short and its last field cannot be trusted.
FIELD_ENDS = frozenset(sum(WIDTHS[:i + 1]) + i for i in range(len(WIDTHS)))


def split_columns(line: str) -> list[str] | None:
    """The nine fixed-width fields, or None when the line is not 80-column shaped."""
    body = line.rstrip("\r\n")
    if len(body) > LINE_WIDTH or (len(body) < LINE_WIDTH and len(body.rstrip()) not in
                                  FIELD_ENDS):
        return None
    padded = body.ljust(LINE_WIDTH)
    fields, pos = [], 0
    for width in WIDTHS:
        fields.append(padded[pos:pos + width])
        separator = padded[pos + width:pos + width + 1]
        if separator not in ("", " "):
            return None
        pos += width + 1
    return fields


def parse_record(line: str) -> CallRecord | None:
    fields = split_columns(line)
    if fields is None:
        return None
    date, time_, ext, co, dial, ring, duration, account, condition = (f.strip() for f in fields)
    direction, caller_id, ddi = _classify_dial(dial)
    # Intercom and log-in records use no CO line; every other record names one.
    co_ok = co.isdigit() or (not co and direction in (CallDirection.INTERCOM,
                                                      CallDirection.OTHER))
    if not ext or not co_ok or condition not in _CONDITIONS:
        return None
    try:
        ended, ring_s, duration_s = _ended_at(date, time_), _ring(ring), _duration(duration)
    except ValueError:
        return None
    return CallRecord(ended_at=ended, extension=ext, trunk=co, direction=direction,
                      dialled=dial, caller_id=caller_id, ddi=ddi, ring_s=ring_s,
                      duration_s=duration_s, account_code=account, condition=condition,
                      raw=line.rstrip("\r\n"))


def parse_smdr(text: str) -> tuple[list[CallRecord], list[Alarm], BadLines]:
    """Records and interleaved alarm lines; anything else is reported, never dropped."""
    records: list[CallRecord] = []
    alarms: list[Alarm] = []
    bad: BadLines = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped == EMPTY_MARKER or _HEADER.match(line) or _RULE.match(line):
            continue
        alarm = parse_error_line(line)
        if alarm is not None:
            alarms.append(alarm)
            continue
        record = parse_record(line)
        if record is None:
            bad.append((number, line.rstrip()))
        else:
            records.append(record)
    return records, alarms, bad


def _ended_at(date: str, time_: str) -> datetime | None:
    """None for the PBX's ``**`` placeholder (clock changed mid-call); ValueError if bad."""
    if date.startswith("*") and set(date + time_) <= set("*/: "):
        return None
    return day_month_year(date, time_)


def _ring(text: str) -> int | None:
    if not text:
        return None
    match = _RING.match(text)
    if match is None:
        raise ValueError(text)
    return int(match[1]) * 60 + int(match[2])


def _duration(text: str) -> int | None:
    if not text:
        return None
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(text)
    return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])


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
