"""Toshiba Strata CTX SMDR records (DOMAIN.md, docs/dialects/toshiba.md) as a pure parser.

``N 001 00 DN1234 T000001 06/28 12:10:50 00:10:30.0 12134567890`` with an optional ``&``
line of caller ID and DNIS. Fields are split on runs of spaces, which reads both the
published sample and the manual's padded columns. Records carry no year: it is the latest
year that does not put the record after ``today`` (the PBX's own date).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from drivers.model import CallDirection, CallRecord
from drivers.textparse import BadLines

EMPTY_MARKER = "NO SMDR RECORD"
_RECORD = re.compile(
    r"^(?P<type>[NSXEBITACM]) (?P<seq>\d{3}) (?P<node>\d{2}) +(?P<orig>DN\d+|T\d{6}|-) +"
    r"(?P<term>DN\d+|T\d{6}|-) +(?P<date>\d\d/\d\d) (?P<time>\d\d:\d\d:\d\d) +"
    r"(?P<dur>\d\d:\d\d:\d\d\.\d)(?: +(?P<digits>\S.*?))?\s*$"
)


def parse_smdr(text: str, *, today: date) -> tuple[list[CallRecord], BadLines]:
    records: list[CallRecord] = []
    bad: BadLines = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.rstrip()
        if not stripped.strip() or stripped.strip() == EMPTY_MARKER:
            continue
        if stripped.startswith("&"):
            if not records or not _attach_second_line(records, stripped):
                bad.append((number, stripped))
            continue
        record = parse_record(stripped, today=today)
        if record is None:
            bad.append((number, stripped))
        else:
            records.append(record)
    return records, bad


def parse_record(line: str, *, today: date) -> CallRecord | None:
    match = _RECORD.match(line)
    if match is None:
        return None
    try:
        stamp = _stamp(match["date"], match["time"], today)
        hours, minutes, seconds = match["dur"].split(":")
        duration = int(hours) * 3600 + int(minutes) * 60 + int(float(seconds))
    except ValueError:
        return None
    orig, term, kind = match["orig"], match["term"], match["type"]
    direction, extension, trunk = _parties(orig, term)
    ended = stamp + timedelta(seconds=duration) if kind == "N" else stamp
    return CallRecord(ended_at=ended, extension=extension, trunk=trunk, direction=direction,
                      dialled=match["digits"] or "", caller_id="", ddi="", ring_s=None,
                      duration_s=duration, account_code="", condition=kind, raw=line)


def _stamp(month_day: str, time_: str, today: date) -> datetime:
    month, day = (int(part) for part in month_day.split("/"))
    year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    return datetime.strptime(f"{year}-{month:02d}-{day:02d} {time_}", "%Y-%m-%d %H:%M:%S")


def _parties(orig: str, term: str) -> tuple[CallDirection, str, str]:
    station = next((p[2:] for p in (orig, term) if p.startswith("DN")), "")
    trunk = next((str(int(p[1:])) for p in (orig, term) if p.startswith("T")), "")
    if orig.startswith("T"):
        return CallDirection.INCOMING, station, trunk
    if orig.startswith("DN") and term.startswith("DN"):
        return CallDirection.INTERCOM, orig[2:], ""
    if orig.startswith("DN"):
        return CallDirection.OUTGOING, station, trunk
    return CallDirection.OTHER, station, trunk


def _attach_second_line(records: list[CallRecord], line: str) -> bool:
    """``&``, caller ID in columns 3–19, DNIS in columns 21–27 (trailing spaces not sent)."""
    caller_id, dnis = line[2:19].strip(), line[20:27].strip()
    if not line.startswith("& ") or len(line) > 27 or not (caller_id or dnis) or (
            dnis and not dnis.isdigit()):
        return False
    last = records[-1]
    records[-1] = replace(last, caller_id=caller_id, ddi=dnis, raw=f"{last.raw}\n{line}")
    return True
