"""Escape commands typed at the start of a line, in the ssh style (``~.``, ``~?``, ``~g``,
``~b``), and the table a getter's answer is shown as.

Kept apart from the session so the two input modes (keystrokes on a terminal, whole lines
from a pipe) read escapes by one rule: only at the start of a line, ``~~`` sends one ``~``,
and a ``~`` followed by anything else goes to the PBX as typed.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from drivers.base import GETTERS

HELP = """\
Escapes (at the start of a line):
  ~.          hang up (log out, release the line) and end the session
  ~g GETTER   show a getter's normalised table: {getters}
  ~b          take a backup of the programming data now
  ~?          this help
  ~~          send a single ~
""".format(getters=", ".join(GETTERS))

MAX_ROWS = 500  # a getter's table longer than this is cut (the transcript has it all)
MAX_CELL = 48
MAX_NAME = 64  # the longest getter name typed after ~g


class Action(enum.Enum):
    HANG_UP = "hang up"
    HELP = "help"
    GETTER = "getter"
    BACKUP = "backup"


@dataclass(frozen=True, slots=True)
class Escape:
    action: Action
    argument: str = ""


def parse_line_escape(line: str) -> Escape | str | None:
    """A whole typed line: an ``Escape``, the text to send instead (``~~x`` → ``~x``), or
    None when it is an ordinary line."""
    if not line.startswith("~") or len(line) < 2:
        return None
    mark, rest = line[1], line[2:].strip()
    if mark == "~":
        return line[1:]
    simple = {".": Action.HANG_UP, "?": Action.HELP, "b": Action.BACKUP}
    if mark in simple and not rest:
        return Escape(simple[mark])
    if mark == "g":
        return Escape(Action.GETTER, rest)
    return None


class _State(enum.Enum):
    TEXT = enum.auto()
    TILDE = enum.auto()
    NAME = enum.auto()


class KeyEscapes:
    """Keystrokes from a raw terminal to bytes for the PBX and escapes for us.

    ``feed`` returns, in order, the byte strings to send and the escapes found; what the
    user types after ``~g`` is echoed locally (``echo``) since the PBX never sees it."""

    def __init__(self) -> None:
        self._state = _State.TEXT
        self._line_start = True
        self._name = bytearray()
        self.echo = bytearray()  # what to show locally; the caller takes and clears it

    def feed(self, data: bytes) -> list[bytes | Escape]:
        out: list[bytes | Escape] = []
        for byte in data:
            item = self._byte(byte)
            if item is None:
                continue
            if isinstance(item, bytes) and out and isinstance(out[-1], bytes):
                out[-1] += item
            else:
                out.append(item)
        return out

    def _byte(self, byte: int) -> bytes | Escape | None:
        char = bytes((byte,))
        if self._state is _State.NAME:
            return self._name_byte(byte)
        if self._state is _State.TILDE:
            self._state = _State.TEXT
            escape = {b".": Action.HANG_UP, b"?": Action.HELP, b"b": Action.BACKUP}
            if char in escape:
                self.echo += b"~" + char + b"\r\n"
                return Escape(escape[char])
            if char == b"g":
                self._state = _State.NAME
                self._name.clear()
                self.echo += b"~g "
                return None
            self._line_start = char in b"\r\n"
            return char if char == b"~" else b"~" + char
        if self._line_start and char == b"~":
            self._state = _State.TILDE
            return None
        self._line_start = char in b"\r\n"
        return char

    def _name_byte(self, byte: int) -> Escape | None:
        if byte in (0x0D, 0x0A):
            self._state = _State.TEXT
            self._line_start = True
            self.echo += b"\r\n"
            return Escape(Action.GETTER, self._name.decode("ascii", "replace").strip())
        if byte in (0x03, 0x1B):  # Ctrl-C or ESC: forget the escape
            self._state = _State.TEXT
            self._line_start = True
            self.echo += b"\r\n"
        elif byte in (0x08, 0x7F):
            if self._name:
                self._name.pop()
                self.echo += b"\b \b"
        elif 0x20 <= byte < 0x7F and len(self._name) < MAX_NAME:
            self._name.append(byte)
            self.echo += bytes((byte,))
        return None


def table(answer: Any) -> str:
    """A getter's answer (a model object or a list of them) as an aligned text table."""
    rows = list(answer) if isinstance(answer, list | tuple) else [answer]
    if not rows:
        return "(none)"
    records = [_record(row) for row in rows[:MAX_ROWS]]
    columns = list(dict.fromkeys(key for record in records for key in record))
    cells = [[_cell(record.get(column, "")) for column in columns] for record in records]
    widths = [max(len(column), *(len(row[i]) for row in cells))
              for i, column in enumerate(columns)]
    lines = [_join(columns, widths), _join(["-" * w for w in widths], widths)]
    lines += [_join(row, widths) for row in cells]
    if len(rows) > MAX_ROWS:
        lines.append(f"... {len(rows) - MAX_ROWS} more rows (see the transcript)")
    return "\n".join(lines)


def _record(row: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)
                if f.name != "raw"}  # the raw reply is in the transcript already
    return {"value": row}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, dict):
        value = ", ".join(f"{k}={v}" for k, v in value.items())
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def _join(cells: Iterable[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
