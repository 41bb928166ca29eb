"""Toshiba SMDR as sites print it (shared/DOMAIN.md, docs/smdr.md), as a pure parser.

- **CTX/CIX R1.02** (the project's dialect too): ``N 001 00 DN1234 T000001 06/28
  12:10:50 00:10:30.0 12134567890`` — originator and terminator of 7 characters, a
  trunk ``T`` + line group (3) + trunk (3). Fields split on runs of spaces, which reads
  both the published sample and padded columns.
- **CTX/CIX R1.03+**, by the documented columns (1-based): type 1, record number 3–5,
  node 7–12, originator 14–22, terminator 24–32, ``MO/DD HH:MM:SS`` 34–47, duration
  49–58, dialled digits 60–91. A trunk is ``T`` + OLG (3) + trunk (3) + B-channel (2);
  ``A`` instead of ``T`` is an unsupervised trunk.
- The **``&`` second line** (both releases): caller ID 3–19, ``DISA`` 21–24, ANI 26–38,
  DNIS 40–46, AUXID1 48–54, AUXID2 56–62. The DISA field only ever holds ``DISA``, so
  digits there are the project's R1.02 dialect (docs/dialects/toshiba.md), whose DNIS
  sits in columns 21–27.
- **Strata DK** printouts, by token shape (no columns are published): CO (2–3 digits,
  ``*`` before or after it: released by CPC/auto-release), station or ``MODM`` / ``DISA``
  / ``MSS``, ``HH:MM``, duration ``HH:MM;SS``; of the optional tail the dialled digits
  (the first run of 5+ dial characters) and the account code after it are kept.

Records print no year (DK no date at all): the year is the latest that does not put the
record after ``today``, which the caller supplies (the PBX's clock, a file's date) —
the parser reads no clock. The stamp is kept as printed (``at``); the field table calls
it the call's end and the sample's explanation its answer time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from drivers.model import CallDirection, CallRecord
from drivers.smdr import (
    UNKNOWN,
    SmdrLine,
    SmdrOptions,
    SmdrRecord,
    SmdrStream,
    head_lines,
    to_call_record,
    year_for,
)
from drivers.textparse import BadLines

EMPTY_MARKER = "NO SMDR RECORD"
# Groups: type, originator and terminator (one text, the cache's key: a stream has few
# distinct pairs), stamp, duration ``HH:MM:SS`` (few distinct ones too), digits.
_R102 = re.compile(
    r"([NSXEBITACM]) \d{3} \d{2} +((?:DN\d+|T\d{6}|-) +(?:DN\d+|T\d{6}|-)) +"
    r"(\d\d/\d\d \d\d:\d\d:\d\d) +(\d\d:[0-5]\d:[0-5]\d)\.\d(?: +(\S.*))?$")
_R103 = re.compile(
    r"([NSXEBITACM]) \d{3} [ \d]{5}\d (.{9} .{9}) (\d\d/\d\d \d\d:\d\d:\d\d) "
    r"(\d\d:[0-5]\d:[0-5]\d)\.\d(?: (.{0,32}))?$")
_PARTY_103 = re.compile(r"^(?:DN\d{1,7} *|[TA]\d{8}|- *| {9})$")
# Groups: CO, station, time, duration ``HH:MM;SS``, and of the tail the dialled digits
# (the first whole token of 5+ dial characters) and the account code (the token after).
_DK = re.compile(
    r"\s*(\*?\d{2,3}\*?)\s+(\d{2,4}|MODM|DISA|MSS)\s+((?:[01]\d|2[0-3]):[0-5]\d)\s+"
    r"(\d\d:[0-5]\d;[0-5]\d)(?:\s+(?:(?:\S+\s+)*?([0-9*#P]{5,})(?!\S)(?:\s+(\S+))?)?.*)?$")
#: ``_DK`` for the common line, ASCII only (``\d`` and ``\s`` look up Unicode classes,
#: and cost the pattern half its time): digits ``[0-9]``, spaces the only whitespace,
#: the tail printable ASCII tokens. Where it matches, its groups are ``_DK``'s; any other
#: line is tried with ``_DK`` itself.
_PRINTABLE = "[!-~]"
_DK_ASCII = re.compile(
    r" *(\*?[0-9]{2,3}\*?) +([0-9]{2,4}|MODM|DISA|MSS) +((?:[01][0-9]|2[0-3]):[0-5][0-9]) +"
    rf"([0-9][0-9]:[0-5][0-9];[0-5][0-9])(?: +(?:{_PRINTABLE}+ +)*?([0-9*#P]{{5,}})(?!{_PRINTABLE})"
    rf"(?: +({_PRINTABLE}+))?(?: +{_PRINTABLE}+)*| +{_PRINTABLE}+(?: +{_PRINTABLE}+)*)?$")
_DK_SERVICES = frozenset({"MODM", "DISA", "MSS"})
# Enum members looked up once: a class attribute access per line shows in the cost.
_OTHER, _OUTGOING, _INCOMING = CallDirection.OTHER, CallDirection.OUTGOING, CallDirection.INCOMING
_MEMO = 4096  # distinct durations remembered per stream
_LAYOUTS = ("toshiba-R1.02", "toshiba-R1.03", "toshiba-DK")
_SAMPLE = 64
_SCAN = 512
_TRUNKS = ("T", "A")
#: What a record line may start with: a record type (CTX) or a CO number / ``*`` (DK).
_RECORD_TYPES = frozenset("NSXEBITACM0123456789* ")


def parse_stream(text: str, options: SmdrOptions | None = None, *, today: date) -> SmdrStream:
    """Every non-blank line of a Toshiba SMDR stream as one ``SmdrLine``."""
    options = options or SmdrOptions()
    layout = options.resolved_layout() or _layout_from(text, today)
    reader = _Reader(layout, today)
    if layout == "toshiba-DK":
        return SmdrStream(layout, None, True, _read_dk(text, reader))
    if layout == UNKNOWN:
        items: list[SmdrLine] = []
        last_record = -1
        for number, printed in enumerate(text.split("\n"), 1):
            raw = (printed[:-1] if printed[-1:] == "\r" else printed).replace("\x00", "")
            if raw and (not raw.isspace() or "\f" in raw):  # as the loops read lines
                body = raw.rstrip().lstrip("\f")
                last_record = _not_read(items, last_record, reader, (number, raw, body))
        return SmdrStream(layout, None, True, items)
    return SmdrStream(layout, None, True, _read_ctx(text, reader))


def _read_ctx(text: str, reader: _Reader) -> list[SmdrLine]:
    """The CTX/CIX loop, a record line read inline by the layout's pattern (a method call
    and a tuple per field were a third of a line's cost); anything else, and any line
    the pattern takes but ``_Reader`` refuses, through ``_not_read``."""
    layout, match = reader.layout, reader.pattern.match
    calls, stamps, durations = reader.calls, reader.stamps, reader.durations
    items: list[SmdrLine] = []
    append = items.append
    new = tuple.__new__
    nul = "\x00" in text  # line noise: looked for per line only where there is some
    last_record = -1  # index in items of the record an ``&`` line may complete
    for number, printed in enumerate(text.split("\n"), 1):
        raw = printed[:-1] if printed[-1:] == "\r" else printed
        if nul and "\x00" in raw:
            raw = raw.replace("\x00", "")
        body = raw.rstrip()
        if not body and "\f" not in raw:  # blank (a lone form feed is a page)
            continue
        if body[:1] == "\f":
            body = body.lstrip("\f")
        m = match(body)
        if m is not None:
            kind, pair, stamp, duration, digits = m.groups()
            parties = calls[pair] if pair in calls else reader.call(pair)
            at = stamps[stamp] if stamp in stamps else reader.stamp(stamp)
            if parties is not None and at is not None:
                seconds = durations.get(duration)
                if seconds is None:
                    seconds = reader.seconds(duration)
                direction, extension, trunk = parties
                record = new(SmdrRecord, (
                    at, "", True, extension, trunk, digits.strip() if digits else "", "", "",
                    None, seconds, "", "", kind, direction, body))
                last_record = len(items)
                append(new(SmdrLine, (number, layout, "record", raw, record, None, "", 0)))
                continue
        elif body[:1] == "&" and last_record >= 0:  # _continue's common case, inline
            second = _second_line(body)
            if type(second) is tuple:
                target = items[last_record]
                old = target[4]
                assert old is not None  # last_record indexes a record
                record = new(SmdrRecord, (*old[:6], second[0] or old[6], second[1],
                                          *old[8:14], old[14] + "\n" + body))
                items[last_record] = new(SmdrLine, (*target[:4], record, *target[5:]))
                append(new(SmdrLine, (number, layout, "continuation", raw, None, None, "",
                                      target[0])))
                last_record = -1
                continue
        last_record = _not_read(items, last_record, reader, (number, raw, body))
    return items


def _read_dk(text: str, reader: _Reader) -> list[SmdrLine]:
    """The Strata DK loop: ``_DK`` inline, as ``dk_record`` reads it; anything else
    through ``_not_read``."""
    layout, fast, match = reader.layout, _DK_ASCII.match, _DK.match
    durations, services = reader.durations, _DK_SERVICES
    other, outgoing, incoming = _OTHER, _OUTGOING, _INCOMING
    items: list[SmdrLine] = []
    append = items.append
    new = tuple.__new__
    nul = "\x00" in text
    last_record = -1
    for number, printed in enumerate(text.split("\n"), 1):
        raw = printed[:-1] if printed[-1:] == "\r" else printed
        if nul and "\x00" in raw:
            raw = raw.replace("\x00", "")
        body = raw.rstrip()
        if not body and "\f" not in raw:  # blank (a lone form feed is a page)
            continue
        if body[:1] == "\f":
            body = body.lstrip("\f")
        m = fast(body) or match(body)
        if m is None:
            last_record = _not_read(items, last_record, reader, (number, raw, body))
            continue
        co, station, time, duration, dialled, account = m.groups()
        seconds = durations.get(duration)
        if seconds is None:
            seconds = reader.seconds(duration)
        released = "*" in co
        record = new(SmdrRecord, (
            None, time, True, station, co.strip("*") if released else co, dialled or "", "",
            "", None, seconds, "", account or "", "CPC" if released else "",
            other if station in services else outgoing if dialled else incoming, body))
        last_record = len(items)
        append(new(SmdrLine, (number, layout, "record", raw, record, None, "", 0)))
    return items


def _not_read(items: list[SmdrLine], last_record: int, reader: _Reader,
              line: tuple[int, str, str]) -> int:
    """Append a line the loops did not read as a record (an ``&`` line, a marker, an
    error, or a record the general path reads); the index an ``&`` line may complete."""
    number, raw, body = line
    if body[:1] == "&":
        items.append(_continue(items, last_record, tuple.__new__(SmdrLine, (
            number, reader.layout, "continuation", raw, None, None, "", 0)), body))
        return -1
    item = reader.item(number, raw, body)
    items.append(item)
    return len(items) - 1 if item.kind == "record" else -1


def _layout_from(text: str, today: date) -> str:
    """The one layout the first record-shaped lines fit (Toshiba prints no header)."""
    head = [line.rstrip() for line in head_lines(text, _SCAN)]
    sample = [body for body in head if body.strip() and body[0] != "&"
              and body != EMPTY_MARKER][:_SAMPLE]
    fits = sorted(((sum(not isinstance(_Reader(name, today).record(b), str) for b in sample),
                    name) for name in _LAYOUTS), reverse=True)
    if fits[0][0] == 0 or fits[0][0] == fits[1][0]:
        return UNKNOWN
    return fits[0][1]


class _Reader:
    """One stream's layout, year reference and caches: a log has few distinct stamps and
    parties, and ``datetime`` construction and party checks were most of a line's cost."""

    def __init__(self, layout: str, today: date) -> None:
        self.layout, self.today = layout, today
        self.pattern = _R103 if layout == "toshiba-R1.03" else _R102
        self.stamps: dict[str, datetime | None] = {}
        self.parties: dict[str, tuple[str, str] | None] = {}
        self.calls: dict[str, tuple[CallDirection, str, str] | None] = {}
        self.durations: dict[str, int] = {}

    def item(self, number: int, raw: str, body: str) -> SmdrLine:
        layout = self.layout
        if not body.strip():
            return SmdrLine(number, layout, "skip", raw, detail="page")
        if body[0] == "&":
            return SmdrLine(number, layout, "continuation", raw)
        if body == EMPTY_MARKER:
            return SmdrLine(number, layout, "skip", raw, detail="header")
        if layout == UNKNOWN:
            return SmdrLine(number, layout, "error", raw,
                            detail="layout not told: the records fit no one layout")
        record = self.record(body)
        if isinstance(record, str):
            return SmdrLine(number, layout, "error", raw, None, None, record)
        return tuple.__new__(SmdrLine, (number, layout, "record", raw, record, None, "", 0))

    def record(self, body: str) -> SmdrRecord | str:
        if self.layout == "toshiba-DK":
            return self.dk_record(body)
        match = self.pattern.match(body)
        if match is None:
            return f"not a {self.layout} record"
        kind, pair, stamp, duration, digits = match.groups()
        parties = self.calls[pair] if pair in self.calls else self.call(pair)
        if parties is None:
            return f"originator or terminator not in {self.layout} form"
        at = self.stamps[stamp] if stamp in self.stamps else self.stamp(stamp)
        if at is None:
            return f"bad date or time {stamp!r}"
        direction, extension, trunk = parties
        seconds = self.durations.get(duration)
        if seconds is None:
            seconds = self.seconds(duration)
        return tuple.__new__(SmdrRecord, (
            at, "", True, extension, trunk, digits.strip() if digits else "", "", "", None,
            seconds, "", "", kind, direction, body))

    def seconds(self, duration: str) -> int:
        """``HH:MM:SS`` or DK's ``HH:MM;SS`` (shape-checked by the pattern), remembered."""
        value = int(duration[0:2]) * 3600 + int(duration[3:5]) * 60 + int(duration[6:8])
        if len(self.durations) < _MEMO:
            self.durations[duration] = value
        return value

    def call(self, pair: str) -> tuple[CallDirection, str, str] | None:
        """(direction, station, trunk) of an originator and terminator (as matched, the
        space between them included), cached."""
        if self.layout == "toshiba-R1.03":
            orig, term = self.party(pair[:9]), self.party(pair[10:])
        else:
            first, second = pair.split()
            orig, term = self.party(first), self.party(second)
        value = None if orig is None or term is None else _direction(orig, term)
        self.calls[pair] = value
        return value

    def stamp(self, stamp: str) -> datetime | None:
        try:
            month, day = int(stamp[0:2]), int(stamp[3:5])
            value: datetime | None = datetime(year_for(month, day, self.today), month, day,
                                              int(stamp[6:8]), int(stamp[9:11]),
                                              int(stamp[12:14]))
        except ValueError:
            value = None
        self.stamps[stamp] = value
        return value

    def dk_record(self, body: str) -> SmdrRecord | str:
        match = _DK.match(body)
        if match is None:
            return "not a Strata DK printout line"
        co, station, time, duration, dialled, account = match.groups()
        dialled, account = dialled or "", account or ""
        direction = (_OTHER if station in _DK_SERVICES else _OUTGOING if dialled
                     else _INCOMING)
        released = "*" in co
        seconds = self.durations.get(duration)
        if seconds is None:
            seconds = self.seconds(duration)
        return tuple.__new__(SmdrRecord, (
            None, time, True, station, co.strip("*") if released else co, dialled, "", "",
            None, seconds, "", account, "CPC" if released else "", direction, body))

    def party(self, text: str) -> tuple[str, str] | None:
        """(kind, number): ``DN`` and the station, ``T``/``A`` and the trunk, or ``-``."""
        if text in self.parties:
            return self.parties[text]
        value: tuple[str, str] | None = None
        if self.layout != "toshiba-R1.03" or _PARTY_103.match(text):
            name = text.strip()
            if name.startswith("DN"):
                value = ("DN", name[2:])
            elif name[:1] in _TRUNKS:
                value = (name[0], str(int(name[4:7])))
            else:
                value = ("-", "")
        self.parties[text] = value
        return value


def _direction(orig: tuple[str, str], term: tuple[str, str]) -> tuple[CallDirection, str, str]:
    """(direction, station, trunk) from the originator and terminator."""
    station = orig[1] if orig[0] == "DN" else term[1] if term[0] == "DN" else ""
    trunk = orig[1] if orig[0] in _TRUNKS else term[1] if term[0] in _TRUNKS else ""
    if orig[0] in _TRUNKS:
        return CallDirection.INCOMING, station, trunk
    if orig[0] == "DN":
        if term[0] == "DN":
            return CallDirection.INTERCOM, orig[1], ""
        return CallDirection.OUTGOING, station, trunk
    return CallDirection.OTHER, station, trunk


def _continue(items: list[SmdrLine], last_record: int, item: SmdrLine, body: str) -> SmdrLine:
    """Complete the record on the line just before, or say why the ``&`` line cannot."""
    if last_record < 0:
        return item._replace(kind="error", detail="& line with no record line before it")
    fields = _second_line(body)
    if isinstance(fields, str):
        return item._replace(kind="error", detail=fields)
    caller_id, dnis = fields
    target = items[last_record]
    assert target.record is not None
    old = target.record
    record = tuple.__new__(SmdrRecord, (*old[:6], caller_id or old.caller_id, dnis,
                                        *old[8:14], f"{old.raw}\n{body}"))
    items[last_record] = tuple.__new__(SmdrLine, (*target[:4], record, *target[5:]))
    return tuple.__new__(SmdrLine, (*item[:7], target.line))


def _second_line(body: str) -> tuple[str, str] | str:
    """(caller ID or else ANI, DNIS) of an ``&`` line, or why it is not one."""
    if len(body) > 62 or not body.startswith("& "):
        return "& line longer than 62 columns or without a space after the &"
    padded = body.ljust(62)
    caller_id, disa = padded[2:19].strip(), padded[20:24].strip()
    if disa.isdigit() and len(body) <= 27:  # the project's R1.02 dialect: DNIS 21–27
        return caller_id, padded[20:27].strip()
    if disa not in ("", "DISA") or (
            padded[19] + padded[24] + padded[38] + padded[46] + padded[54] != "     "):
        return "& line not in the documented columns"
    ani, dnis = padded[25:38].strip(), padded[39:46].strip()
    if not (caller_id or disa or ani or dnis or padded[47:62].strip()) or (
            dnis and not dnis.isdigit()):
        return "& line with no caller ID, ANI or DNIS"
    return caller_id or ani, dnis


# The console driver's API (R1.02 as the simulator prints it over ``SHOW SMDR``).

def parse_smdr(text: str, *, today: date,
               options: SmdrOptions | None = None) -> tuple[list[CallRecord], BadLines]:
    """Records (``ended_at``: the stamp plus the duration for a completed ``N`` call, as
    the console driver has always reported) and the lines that are not records."""
    records: list[CallRecord] = []
    bad: BadLines = []
    for item in parse_stream(text, options, today=today).items:
        if item.record is not None:
            r = item.record
            if r.condition == "N" and r.at is not None and r.duration:
                r = r._replace(at=r.at + timedelta(seconds=r.duration))
            records.append(to_call_record(r))
        elif item.kind == "error":
            bad.append((item.line, item.raw.rstrip()))
    return records, bad


def parse_record(line: str, *, today: date) -> CallRecord | None:
    records, _ = parse_smdr(line, today=today, options=SmdrOptions(layout="toshiba-R1.02"))
    return records[0] if records else None
