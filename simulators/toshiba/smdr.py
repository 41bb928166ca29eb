"""Toshiba Strata CTX SMDR (R1.02), as in shared/DOMAIN.md and docs/dialects/toshiba.md.

``N 001 00 DN1234 T000001 06/28 12:10:50 00:10:30.0 12134567890``: type, record number,
node, originator, terminator, time stamp, duration, dialled digits; one space between.
Toshiba prints no progress (RC/AN) records and no error-log lines on SMDR; restarts and
clock changes become ``I`` and ``T`` records.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from simulators.records import CallKind, CallRecord, SmdrItem, SystemEvent
from simulators.smdr_format import SmdrFormat
from simulators.toshiba import smdr_layouts

R102 = SmdrFormat("R1.02")

NODE = "00"
NONE = "-"
RECORD_NUMBERS = 128


def stamp(when: datetime) -> str:
    return f"{when:%m/%d %H:%M:%S}"


def duration(seconds: int | None) -> str:
    seconds = min(seconds or 0, 99 * 3600 + 59 * 60 + 59)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.0"


def trunk(co: int | None) -> str:
    return NONE if co is None else f"T{co:06d}"


def _line(head: tuple[str, int], parties: tuple[str, str], when: datetime,
          seconds: int | None, dialled: str = "") -> str:
    """``head`` is (record type, record number); ``parties`` (originator, terminator)."""
    kind, record_no = head
    fields = [kind, f"{record_no % RECORD_NUMBERS:03d}", NODE, *parties, stamp(when),
              duration(seconds)]
    return " ".join([*fields, dialled] if dialled else fields)


def record_type(r: CallRecord) -> str:
    if r.condition == "NA":
        return "B"
    return "X" if r.condition == "TR" else "N"


def call_lines(r: CallRecord) -> list[str]:
    """The record line, and the ``&`` line for an incoming call with caller ID or DNIS."""
    station = f"DN{r.extension}"
    kind = record_type(r)
    head = (kind, r.record_no)
    answered = r.ended - timedelta(seconds=r.duration_s or 0)
    if r.kind is CallKind.INTERCOM:
        return [_line(head, (station, f"DN{r.number}"), answered, r.duration_s)]
    if r.kind is CallKind.OUTGOING:
        return [_line(head, (station, trunk(r.co)), answered, r.duration_s, r.number)]
    lines = [_line(head, (trunk(r.co), station), answered if kind == "N" else r.ended,
                   r.duration_s)]
    if r.number or r.ddi:
        lines.append(f"& {r.number:<17} {r.ddi}".rstrip())
    return lines


def event_line(e: SystemEvent, fmt: SmdrFormat = R102) -> str:
    line = smdr_layouts.r103_line if fmt.layout == "R1.03" else _line
    if e.kind == "clock":
        previous = e.previous or e.when
        return line(("T", e.record_no), (NONE, NONE), previous, 0, stamp(e.when))
    return line(("I", e.record_no), (NONE, NONE), e.when, 0)


def item_lines(item: SmdrItem, fmt: SmdrFormat = R102,
               unsupervised: frozenset[int] = frozenset()) -> list[str]:
    """The lines an SMDR item prints in the layout (``unsupervised``: the CO lines an
    R1.03 printout shows as ``A`` trunks)."""
    if isinstance(item, CallRecord):
        if item.progress:
            return []
        if fmt.layout == "DK":
            return smdr_layouts.dk_call(item)
        if fmt.layout == "R1.03":
            return smdr_layouts.r103_call(item, record_type(item), unsupervised)
        return call_lines(item)
    if isinstance(item, SystemEvent) and fmt.layout != "DK":
        return [event_line(item, fmt)]
    return []


def smdr_lines(items: list[SmdrItem], since: datetime | None = None,
               fmt: SmdrFormat = R102, unsupervised: frozenset[int] = frozenset()
               ) -> list[str]:
    return [line for item in items if since is None or item.when >= since
            for line in item_lines(item, fmt, unsupervised)]
