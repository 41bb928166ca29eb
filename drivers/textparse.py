"""Small pieces every console parser needs: numbered content lines, tables, key: value.

A "bad line" is ``(line number, text)``; number 0 means "the reply as a whole" (a missing
header, a missing field). Parsers report bad lines and never drop them.
"""

from __future__ import annotations

import re

BadLines = list[tuple[int, str]]
NumberedLines = list[tuple[int, str]]

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
