"""Panasonic SMDR as the site's layout prints it (shared/DOMAIN.md): by default the
80-column pattern A with a 24-hour clock and DD/MM/YY dates, exactly as published.

Pattern A: fixed-width fields, each followed by one space: date 8, time 7, ext 5, CO 2,
dial number 25, ring 4 (``M'SS``), duration 8 (``HH:MM'SS``), account code 10, condition
code 2. Time is the call's end time; error-log lines are printed on the same stream
between records. The other layouts (B, C, 12H, MM/DD/YY, the hybrid systems) are in
``smdr_layouts``.
"""

from __future__ import annotations

from datetime import datetime

from simulators.panasonic import smdr_layouts
from simulators.panasonic.smdr_layouts import dial_number, stamp
from simulators.panasonic.smdr_layouts import duration as format_duration
from simulators.panasonic.smdr_layouts import ring as format_ring
from simulators.records import CallRecord, LogEntry, SmdrItem, SystemEvent
from simulators.smdr_format import SmdrFormat

HEADER = "  Date     Time    Ext CO        Dial Number        Ring Duration  Acc code  CD "
RULE = "-" * 80
WIDTHS = (8, 7, 5, 2, 25, 4, 8, 10, 2)
CLOCK_CHANGED = smdr_layouts.CLOCK_CHANGED
PATTERN_A = SmdrFormat("A")

__all__ = ["CLOCK_CHANGED", "HEADER", "RULE", "WIDTHS", "dial_number", "format_call",
           "format_duration", "format_item", "format_log_entry", "format_ring", "header",
           "smdr_lines"]


def format_log_entry(e: LogEntry, fmt: SmdrFormat = PATTERN_A) -> str:
    """The published error-log / SMDR alarm line: the 7-column time and 2 spaces (4
    after a 24-hour ``14:44``)."""
    date, time = stamp(e.when, fmt)
    return f"{date} {time}  {e.level} ALM #{e.code:03d} 00 {e.sub_code} {e.message}"


def format_call(r: CallRecord, fmt: SmdrFormat = PATTERN_A) -> str:
    """One record line in the layout (pattern A: 80 columns, trailing space kept)."""
    text = smdr_layouts.call(r, fmt)
    return "" if text is None else text


def header(fmt: SmdrFormat = PATTERN_A) -> list[str]:
    """The page header and rule the layout prints at the top of each page."""
    return [HEADER, RULE] if fmt.layout == "A" else smdr_layouts.header(fmt)


def format_item(item: SmdrItem, fmt: SmdrFormat = PATTERN_A) -> str | None:
    """A buffer item as printed; None for what the layout does not print (system events;
    on the hybrid systems also error-log lines, intercom and progress records)."""
    if isinstance(item, CallRecord):
        return smdr_layouts.call(item, fmt)
    if isinstance(item, LogEntry):
        return None if fmt.layout == "hybrid" else format_log_entry(item, fmt)
    assert isinstance(item, SystemEvent)
    return None


def smdr_lines(items: list[SmdrItem], since: datetime | None = None,
               fmt: SmdrFormat = PATTERN_A) -> list[str]:
    """The ``SMDR`` command's body: header, rule, then records (none: empty list)."""
    lines = [text for item in items
             if (since is None or item.when >= since) and (text := format_item(item, fmt))]
    return [*header(fmt), *lines] if lines else []
