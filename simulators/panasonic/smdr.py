"""Panasonic SMDR, 80-column pattern A, exactly as published (shared/DOMAIN.md).

Fixed-width fields, each followed by one space: date 8, time 7, ext 5, CO 2, dial number
25, ring 4 (``M'SS``), duration 8 (``HH:MM'SS``), account code 10, condition code 2. Time
is the call's end time; error-log lines are printed on the same stream between records.
"""

from __future__ import annotations

from datetime import datetime

from simulators.records import CallKind, CallRecord, LogEntry, SmdrItem, SystemEvent

HEADER = "  Date     Time    Ext CO        Dial Number        Ring Duration  Acc code  CD "
RULE = "-" * 80
WIDTHS = (8, 7, 5, 2, 25, 4, 8, 10, 2)
CLOCK_CHANGED = ("**/**/**", "**:****")
MAX_RING_S = 9 * 60 + 59
MAX_DURATION_S = 99 * 3600 + 59 * 60 + 59


def format_log_entry(e: LogEntry) -> str:
    """The published error-log / SMDR alarm line: 4 spaces after the time."""
    return f"{e.when:%d/%m/%y %H:%M}    {e.level} ALM #{e.code:03d} 00 {e.sub_code} {e.message}"


def format_ring(seconds: int | None) -> str:
    if seconds is None:
        return ""
    seconds = min(seconds, MAX_RING_S)
    return f"{seconds // 60}'{seconds % 60:02d}"


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    seconds = min(seconds, MAX_DURATION_S)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}'{seconds % 60:02d}"


def dial_number(r: CallRecord) -> str:
    """``<D>`` DDI and ``<I>`` caller ID for incoming calls, ``EXT`` for intercom."""
    if r.kind is CallKind.INTERCOM:
        return f"EXT{r.number}"
    if r.kind is CallKind.INCOMING:
        return (f"<D>{r.ddi}" if r.ddi else "") + f"<I>{r.number}"
    return r.number


def format_co(co: int | None) -> str:
    """Two digits; pattern A shows ``00`` for CO numbers over a hundred, blank for none."""
    if co is None:
        return ""
    return "00" if co > 99 else f"{co:02d}"


def format_call(r: CallRecord) -> str:
    """One 80-column record line (with its trailing space, as the PBX prints it)."""
    date, time = CLOCK_CHANGED if r.clock_changed else (f"{r.ended:%d/%m/%y}",
                                                       f"{r.ended:%H:%M}")
    fields = (date, time, r.extension.rjust(5), format_co(r.co), dial_number(r),
              format_ring(r.ring_s).rjust(4), format_duration(r.duration_s),
              r.account_code, r.condition)
    return "".join(text[:width].ljust(width) + " " for text, width in zip(fields, WIDTHS,
                                                                          strict=True))


def format_item(item: SmdrItem) -> str | None:
    """A buffer item as printed; None for what Panasonic does not print (system events)."""
    if isinstance(item, CallRecord):
        return format_call(item)
    if isinstance(item, LogEntry):
        return format_log_entry(item)
    assert isinstance(item, SystemEvent)
    return None


def smdr_lines(items: list[SmdrItem], since: datetime | None = None) -> list[str]:
    """The ``SMDR`` command's body: header, rule, then records (none: empty list)."""
    lines = [text for item in items
             if (since is None or item.when >= since) and (text := format_item(item))]
    return [HEADER, RULE, *lines] if lines else []
