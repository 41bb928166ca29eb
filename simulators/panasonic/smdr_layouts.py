"""Panasonic SMDR in every documented layout (shared/DOMAIN.md), for one ``SmdrFormat``.

- **Pattern A** (80 columns) and **C** (120 columns: CO 4 digits, dial number 50): date,
  time, ext, CO, dial number, ring, duration, account code, CD, one space after each.
- **Pattern B**: *Cost* instead of Ring, and from the extension on every field one
  column left of pattern A (no space after the time). The cost is a currency code and
  an amount, ``GB00012.50``; this simulator charges outgoing calls by the minute.
- Time 24-hour ``14:44`` + two spaces or 12-hour ``10:03AM``; date DD/MM/YY or MM/DD/YY.
- **Hybrid systems** (KX-TA/TES/TD) over RS-232: ``Date Time Ext. CO Dial number
  Duration Code``, date ``M/D/YY`` space-padded, 12-hour time with ``*`` before it for a
  transferred call, an incoming call as ``<    incoming    >`` and the caller ID, the
  duration ``00:00'07"`` and the code (``....`` without an account code). These systems
  print CO calls only — no intercom calls, no ringing/answered progress records — and an
  unanswered call with its extension blank.
"""

from __future__ import annotations

from datetime import datetime

from simulators.records import CallKind, CallRecord
from simulators.smdr_format import SmdrFormat

CLOCK_CHANGED = ("**/**/**", "**:****")
MAX_RING_S = 9 * 60 + 59
MAX_DURATION_S = 99 * 3600 + 59 * 60 + 59
PENCE_PER_MINUTE = 5
CURRENCY = "GB"
#: Field widths, and whether a space follows each: date, time, ext, CO, dial, ring or
#: cost, duration, account code, CD (pattern B swaps the ring for the cost after the
#: duration).
_A = ((8, 1), (7, 1), (5, 1), (2, 1), (25, 1), (4, 1), (8, 1), (10, 1), (2, 1))
_B = ((8, 1), (7, 0), (5, 1), (2, 1), (25, 1), (8, 1), (10, 1), (10, 1), (2, 1))
_C = ((8, 1), (7, 1), (5, 1), (4, 1), (50, 1), (4, 1), (8, 1), (10, 1), (2, 1))
_TITLES = {"A": ("Date", "Time", "Ext", "CO", "Dial Number", "Ring", "Duration",
                 "Acc code", "CD"),
           "B": ("Date", "Time", "Ext", "CO", "Dial Number", "Duration", "Cost",
                 "Acc code", "CD")}
_TITLES["C"] = _TITLES["A"]
WIDTHS = {"A": _A, "B": _B, "C": _C}
C_COLUMNS = 120
HYBRID_HEADER = "Date     Time     Ext. CO  Dial number                   Duration   Code"


def header(fmt: SmdrFormat) -> list[str]:
    """The page header: the column titles over their fields, and a rule as wide."""
    if fmt.layout == "hybrid":
        return [HYBRID_HEADER, "-" * len(HYBRID_HEADER)]
    titles = "".join(title.center(width) + " " * space for title, (width, space)
                     in zip(_TITLES[fmt.layout], WIDTHS[fmt.layout], strict=True))
    width = C_COLUMNS if fmt.layout == "C" else len(titles)
    return [titles.ljust(width), "-" * width]


def stamp(when: datetime, fmt: SmdrFormat) -> tuple[str, str]:
    """(date, time) as the site prints them: ``10:03AM`` or ``10:03`` + two spaces."""
    date = f"{when:%d/%m/%y}" if fmt.day_first else f"{when:%m/%d/%y}"
    return date, twelve_hour(when) if fmt.twelve_hour else f"{when:%H:%M}  "


def twelve_hour(when: datetime, pad: str = "0") -> str:
    """``12:11AM`` is eleven past midnight, ``01:06PM`` six past one."""
    hour = when.hour % 12 or 12
    return f"{hour:{pad}>2}:{when:%M}{'AM' if when.hour < 12 else 'PM'}"


def ring(seconds: int | None) -> str:
    if seconds is None:
        return ""
    seconds = min(seconds, MAX_RING_S)
    return f"{seconds // 60}'{seconds % 60:02d}"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    seconds = min(seconds, MAX_DURATION_S)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}'{seconds % 60:02d}"


def cost(r: CallRecord) -> str:
    """Pattern B's charge: outgoing calls by the started minute, ``GB00012.50``."""
    if r.kind is not CallKind.OUTGOING or r.duration_s is None:
        return ""
    pence = -(-min(r.duration_s, MAX_DURATION_S) // 60) * PENCE_PER_MINUTE
    return f"{CURRENCY}{pence // 100:05d}.{pence % 100:02d}"


def dial_number(r: CallRecord) -> str:
    """``<D>`` DDI and ``<I>`` caller ID for incoming calls, ``EXT`` for intercom."""
    if r.kind is CallKind.INTERCOM:
        return f"EXT{r.number}"
    if r.kind is CallKind.INCOMING:
        return (f"<D>{r.ddi}" if r.ddi else "") + f"<I>{r.number}"
    return r.number


def co(number: int | None, digits: int) -> str:
    """The CO line in ``digits`` digits; pattern A shows ``00`` above 99; blank for none."""
    if number is None:
        return ""
    return "0" * digits if number >= 10 ** digits else f"{number:0{digits}d}"


def call(r: CallRecord, fmt: SmdrFormat) -> str | None:
    """One record line (trailing spaces kept, as the PBX prints them); None for what
    the layout does not print."""
    if fmt.layout == "hybrid":
        return _hybrid(r)
    date, time = CLOCK_CHANGED if r.clock_changed else stamp(r.ended, fmt)
    if fmt.layout == "B":
        middle = (duration(r.duration_s), cost(r))
    else:
        middle = (ring(r.ring_s).rjust(4), duration(r.duration_s))
    fields = (date, time, r.extension.rjust(5), co(r.co, 4 if fmt.layout == "C" else 2),
              dial_number(r), *middle, r.account_code, r.condition)
    text = "".join(value[:width].ljust(width) + " " * space for value, (width, space)
                   in zip(fields, WIDTHS[fmt.layout], strict=True))
    return text.ljust(C_COLUMNS) if fmt.layout == "C" else text


def _hybrid(r: CallRecord) -> str | None:
    if r.kind is CallKind.INTERCOM or r.progress or r.co is None:
        return None
    when = r.ended
    date = f"{when.month:>2}/{when.day:>2}/{when:%y}"
    time = ("*" if r.condition == "TR" else " ") + twelve_hour(when, pad=" ")
    extension = "" if r.condition == "NA" else r.extension
    dial = f"<    incoming    >{r.number}" if r.kind is CallKind.INCOMING else r.number
    seconds = min(r.duration_s or 0, MAX_DURATION_S)
    length = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}'{seconds % 60:02d}\""
    return (f"{date}{time}  {extension:<4} {r.co % 100:02d}  {dial:<30} {length} "
            f"{r.account_code or '....'}")
