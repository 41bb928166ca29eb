"""Small pieces every console parser needs: numbered content lines, tables, key: value.

A "bad line" is ``(line number, text)``; number 0 means "the reply as a whole" (a missing
header, a missing field). Parsers report bad lines and never drop them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

BadLines = list[tuple[int, str]]
NumberedLines = list[tuple[int, str]]

T = TypeVar("T")

_KEY_VALUE = re.compile(r"^(?P<key>[A-Z][A-Za-z/ ]*?)\s*:\s*(?P<value>.*?)\s*$")


def content_lines(text: str) -> NumberedLines:
    """Non-blank lines with their 1-based numbers, trailing spaces removed."""
    return [(n, line.rstrip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def table(text: str, header: str) -> tuple[NumberedLines, BadLines]:
    """The rows under ``header`` (compared word by word); a missing header is reported."""
    lines = content_lines(text)
    if lines and lines[0][1].split() == header.split():
        return lines[1:], []
    return lines, [(0, f"missing header {header!r}")]


def readable(rows: NumberedLines, read: Callable[[str], T | None],
             bad: BadLines) -> Iterator[tuple[str, T]]:
    """Each row ``read`` makes sense of (a regex's ``match``, a line parser), with its text;
    every other row is added to ``bad`` in order, so no parser can forget to report one."""
    for number, line in rows:
        item = read(line)
        if item is None:
            bad.append((number, line))
        else:
            yield line, item


def key_values(text: str) -> tuple[dict[str, str], BadLines]:
    """``KEY : value`` lines as a dict; other lines are reported."""
    values: dict[str, str] = {}
    bad: BadLines = []
    for number, line in content_lines(text):
        match = _KEY_VALUE.match(line)
        if match is None:
            bad.append((number, line))
        else:
            values[match["key"]] = match["value"]
    return values, bad


def day_month_year(date: str, time: str) -> datetime:
    """``DD/MM/YY`` and ``HH:MM[:SS]`` (years 2000–2099); ValueError when malformed.

    Hand-parsed: ``strptime`` was half of the parsers' time on a long error log."""
    _check_date(date)
    return _at(int(date[6:8]), int(date[3:5]), int(date[0:2]), time)


def month_day_year(date: str, time: str) -> datetime:
    """``MM/DD/YY`` (Toshiba's US setting) and ``HH:MM[:SS]``; ValueError when malformed."""
    _check_date(date)
    return _at(int(date[6:8]), int(date[0:2]), int(date[3:5]), time)


def _check_date(date: str) -> None:
    if len(date) != 8 or date[2] != "/" or date[5] != "/":
        raise ValueError(f"malformed date {date!r}")


def _at(year: int, month: int, day: int, time: str) -> datetime:
    if len(time) not in (5, 8) or time[2] != ":" or (len(time) == 8 and time[5] != ":"):
        raise ValueError(f"malformed time {time!r}")
    seconds = int(time[6:8]) if len(time) == 8 else 0
    return datetime(2000 + year, month, day, int(time[0:2]), int(time[3:5]), seconds)
