"""Panasonic KX-TDA/TDE/NCP/NS fixed-column SMDR layouts: patterns A, B and C.

Each layout is one anchored regular expression over the documented columns, so a line is
checked and split in one call (the parse budget is 5× a plain ``split()`` of the text).
Columns (0-based start, width; one space after each field unless said):

- **A** (80): date 0/8, time 9/7, ext 17/5, CO 23/2, dial 26/25, ring 52/4, duration
  57/8, account 66/10, CD 77/2.
- **B** (with charge): as A up to the time, then every field one column left (the
  extension follows the time directly: 16/5), CO 22/2, dial 25/25, duration 51/8, cost
  60/10 (``EU00000.00`` or ``00560.00EU``), account 71/10, CD 82/2. The manual calls it
  80 columns; its documented widths add up to 84, and we read the widths.
- **C** (120): as A with CO 4 digits (``0001``) and a 50-character dial number: ext
  17/5, CO 23/4, dial 28/50, ring 79/4, duration 84/8, account 93/10, CD 104/2; the
  rest of the 120 columns is blank.

Time is 24-hour ``14:44`` + two spaces or 12-hour ``10:03AM``; ``**/**/** **:****``
replaces both when the clock changed during the call.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_DATE = r"(\d\d/\d\d/\d\d|\*\*/\*\*/\*\*)"
_TIME = r"(\d\d:\d\d(?:AM|PM|  )|\*\*:\*\*\*\*)"
_EXT = r"([ *DT0-9]{5})"
_RING = r"(\d'\d\d| {4})"
_DURATION = r"(\d\d:\d\d'\d\d| {8})"
_COST = r"([A-Z]{2}\d{5}\.\d\d|\d{5}\.\d\d[A-Z]{2}| {10})"
_CD = r"(TR|FW|D0|NA|RC|AN|RM|  )"
_EXT_SHAPE = re.compile(r"^ *\*?[DT]?\d{1,5}$")


class Columns(NamedTuple):
    """One fixed-column layout: its pattern, full width, and where fields may end (a line
    whose trailing spaces were lost must end on one of these, or it was cut short)."""

    name: str
    pattern: re.Pattern[str]
    width: int
    max_width: int  # pattern C pads its 107 columns of fields to 120
    field_ends: frozenset[int]
    has_cost: bool


def _columns(name: str, parts: list[tuple[str, int, bool]], *, max_width: int = 0,
             has_cost: bool = False) -> Columns:
    """``parts``: (regex, field width, followed by a space)."""
    text, pos, ends = "^", 0, set()
    for regex, size, spaced in parts:
        text += regex + (" " if spaced else "")
        pos += size
        ends.add(pos)
        pos += 1 if spaced else 0
    pattern = re.compile(text.rstrip(" ") + r" ?$")
    return Columns(name, pattern, pos, max(pos, max_width), frozenset(ends), has_cost)


PATTERN_A = _columns("panasonic-A", [
    (_DATE, 8, True), (_TIME, 7, True), (_EXT, 5, True), (r"(\d\d|  )", 2, True),
    ("(.{25})", 25, True), (_RING, 4, True), (_DURATION, 8, True), ("(.{10})", 10, True),
    (_CD, 2, True)])
PATTERN_B = _columns("panasonic-B", [
    (_DATE, 8, True), (_TIME, 7, False), (_EXT, 5, True), (r"(\d\d|  )", 2, True),
    ("(.{25})", 25, True), (_DURATION, 8, True), (_COST, 10, True), ("(.{10})", 10, True),
    (_CD, 2, True)], has_cost=True)
PATTERN_C = _columns("panasonic-C", [
    (_DATE, 8, True), (_TIME, 7, True), (_EXT, 5, True), (r"(\d{4}| {4})", 4, True),
    ("(.{50})", 50, True), (_RING, 4, True), (_DURATION, 8, True), ("(.{10})", 10, True),
    (_CD, 2, True)], max_width=120)
LAYOUTS = {c.name: c for c in (PATTERN_A, PATTERN_B, PATTERN_C)}

#: The fields of a split record line, stripped: date, time, ext, CO, dial, ring,
#: duration, cost, account code, condition.
Fields = tuple[str, str, str, str, str, str, str, str, str, str]


def split(columns: Columns, body: str) -> Fields | str:
    """The stripped fields of one record line, or why the line is not one."""
    size = len(body)
    if size < columns.width:
        if len(body.rstrip()) not in columns.field_ends:
            return f"cut short or not in {columns.name} columns"
        body = body.ljust(columns.width)
    elif size > columns.width:
        if size > columns.max_width or body[columns.width:].strip():
            return f"longer than {columns.name}'s {columns.max_width} columns"
        body = body[:columns.width]
    match = columns.pattern.match(body)
    if match is None:
        return f"not a {columns.name} record"
    if columns.has_cost:
        date, time, ext, co, dial, duration, cost, account, cd = match.groups()
        ring = ""
    else:
        date, time, ext, co, dial, ring, duration, account, cd = match.groups()
        cost = ""
    if _EXT_SHAPE.match(ext) is None:
        return f"extension {ext.strip()!r} is not a number"
    return (date, time, ext.strip(), co.strip(), dial.strip(), ring.strip(),
            duration.strip(), cost.strip(), account.strip(), cd.strip())


def ring_seconds(text: str) -> int | None:
    """``M'SS`` (already shape-checked by the pattern)."""
    return int(text[0]) * 60 + int(text[2:4]) if text else None


def duration_seconds(text: str) -> int | None:
    """``HH:MM'SS``; the hybrid systems' ``HH:MM'SS"`` too (the quote is ignored)."""
    if not text:
        return None
    minutes, seconds = int(text[3:5]), int(text[6:8])
    if minutes > 59 or seconds > 59:
        raise ValueError(text)
    return int(text[0:2]) * 3600 + minutes * 60 + seconds


# Fast patterns: the same columns for a line printed at full width (trailing spaces kept,
# as the PBX sends them), capturing values without their padding so the common line needs
# no ``strip()`` per field. With every other field fixed and the line's length fixed, the
# right-justified extension's `` *`` can only take exactly its five columns.
_STAMP = r"(?:\d\d/\d\d/\d\d \d\d:\d\d(?:AM|PM|  )|\*\*/\*\*/\*\* \*\*:\*\*\*\*)"
_FAST_EXT = r" *(\*?[DT]?\d{1,5})"
_FAST_RING = r"(\d'[0-5]\d| {4})"
_FAST_DURATION = r"(\d\d:[0-5]\d'[0-5]\d| {8})"
_FAST_CD = r"(?:(TR|FW|D0|NA|RC|AN|RM)|  )"
_FAST_COST = r"(?:([A-Z]{2}\d{5}\.\d\d|\d{5}\.\d\d[A-Z]{2})| {10})"
#: groups: ext, CO, dial (padded), ring, duration (texts: a stream has few distinct ones,
#: and the builder turns each into seconds once), [cost], account (padded), CD
FAST = {
    "panasonic-A": re.compile(
        rf"{_STAMP} {_FAST_EXT} (?:(\d\d)|  ) (.{{25}}) {_FAST_RING} {_FAST_DURATION} "
        rf"()(.{{10}}) {_FAST_CD} $"),
    "panasonic-B": re.compile(
        rf"{_STAMP}{_FAST_EXT} (?:(\d\d)|  ) (.{{25}}) (){_FAST_DURATION} {_FAST_COST} "
        rf"(.{{10}}) {_FAST_CD} $"),
    "panasonic-C": re.compile(
        rf"{_STAMP} {_FAST_EXT} (?:(\d{{4}})| {{4}}) (.{{50}}) {_FAST_RING} {_FAST_DURATION} "
        rf"()(.{{10}}) {_FAST_CD} *$"),
}
