"""The Panasonic hybrid systems' RS-232 SMDR (KX-TA308/616/624, KX-TES824, KX-TEM824,
KX-TD816/1232), read by token shape: the manuals give its fields, not their columns.

``Date Time Ext. CO Dial number Duration Code``: date ``M/D/YY`` space-padded
(``1/ 4/05``), 12-hour time (``12:11AM``; ``*12:54PM`` for a transferred call), the
extension (blank while a call still rings or waits), CO (2 digits), the dial number or
``<    incoming    >`` followed by the caller ID where the line has one, the duration
``00:00'07"`` and the code (``....`` when no account code).

With a blank extension, the first token after the time is the CO (2 digits) and the next
the dial number; when two tokens stand between time and duration and the first is not
two digits, they are extension and CO with nothing dialled.
"""

from __future__ import annotations

import re

from drivers.panasonic.smdr.columns import Fields

HEADER = re.compile(r"^\s*Date\s+Time\s+Ext\.\s+CO\s+Dial number\s+Duration\s+Code")
_LINE = re.compile(
    r"^\s*(?P<date>[ \d]?\d/[ \d]?\d/\d\d)\s+(?P<tr>\*)?(?P<time>[ \d]?\d:\d\d[AP]M)\s"
    r"(?P<mid>.*?)\s*(?P<dur>\d\d:\d\d'\d\d\")(?:\s+(?P<code>\S+))?\s*$")
#: The common line in one match (a fast path: anything it does not take goes through
#: ``split``, which gives the same fields where both read a line): an extension of 3–5
#: digits or none, the CO, at most one dial token (no quote, no ``<`` but the incoming
#: form), the duration with minutes and seconds under 60 and a code. Groups: date, ``*``,
#: time, extension, CO, caller ID after ``<    incoming    >``, dial number, duration
#: (hours, minutes, seconds), code.
FAST = re.compile(
    r" *(\d?\d/[ \d]?\d/\d\d) +(\*)?(\d?\d:\d\d[AP]M) +(?:([0-9]{3,5}) +)?([0-9][0-9])"
    r"(?: +(?:<\s*incoming\s*>\s*([^\s<'\"]*)|([^\s<'\"]+)))? +"
    r"(\d\d):([0-5]\d)'([0-5]\d)\" +(\S+) *$")
#: ``<    incoming    >`` and the caller ID after it become pattern A's ``<I>`` form.
_INCOMING = re.compile(r"<\s*incoming\s*>\s*")


def split(body: str) -> Fields | str:
    """The fields as pattern A's split gives them (no ring, no cost), or why not."""
    match = _LINE.match(body)
    if match is None:
        return "not a hybrid-system record"
    mid = match["mid"]
    if "<" in mid:
        mid = _INCOMING.sub("<I>", mid)
    tokens = mid.split()
    ext = ""
    if len(tokens) >= 3 or (len(tokens) == 2 and not _is_co(tokens[0])):
        ext = tokens.pop(0)
    if not tokens or not _is_co(tokens[0]):
        return "hybrid record without a 2-digit CO"
    co = tokens.pop(0)
    if ext and not ext.isdigit():
        return f"extension {ext!r} is not a number"
    dial = " ".join(tokens)
    time = match["time"]
    if len(time) != 7:
        time = time.strip().rjust(7, "0")
    code = match["code"] or ""
    return (match["date"], time, ext, co, dial, "", match["dur"], "",
            "" if code == "...." or set(code) <= {"."} else code, "TR" if match["tr"] else "")


def _is_co(token: str) -> bool:
    return len(token) == 2 and token.isdigit()
