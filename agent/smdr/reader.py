"""Complete SMDR lines into call records and alarm lines, with the drivers' parsers.

The parsers read whole streams (they tell the layout from a header or from the shape of
the records). A live port gives a few lines at a time, so this keeps, per connection,
what a whole stream would have told: the first lines (the header) until the layout is
known, then the layout and date order, pinned for every later batch. Until the layout
is told, at most ``HEAD_LINES`` lines are held; a stream that still does not say is read
as ``unknown`` (its alarm lines are still read, its records are rejected — never read in
a guessed layout's columns). A Toshiba record's ``&`` second line follows it, so the
last line of a batch waits for the next one (or for the line to fall quiet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from drivers.smdr import UNKNOWN, SmdrLine, SmdrOptions, SmdrStream, to_json

HEAD_LINES = 64  # lines held while the layout is not yet told
ItemKind = Literal["record", "alarm"]


@dataclass(frozen=True, slots=True)
class Item:
    """One record or alarm line as read: ``raw`` is its identity for de-duplication."""

    kind: ItemKind
    raw: str
    at: str | None  # ISO 8601 local time as printed (no zone), or None
    data: dict[str, Any]  # the ``smdr parse --json`` object's record / alarm part


class StreamReader:
    """One connection's lines, in order, to items; errors are counted, not kept."""

    def __init__(self, vendor: str, options: SmdrOptions | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        self._vendor = vendor
        self._options = options or SmdrOptions()
        self._today = today
        self._head: list[str] = []
        self._told = self._options.resolved_layout() is not None
        self._carry: list[str] = []
        self.layout: str = self._options.resolved_layout() or UNKNOWN
        self.rejected = 0

    def feed(self, lines: list[str], *, final: bool = False) -> list[Item]:
        """Items completed by ``lines``; ``final`` (the line is quiet) flushes all held."""
        lines = self._carry + lines
        self._carry = []
        if self._vendor == "toshiba" and lines and not final \
                and not lines[-1].lstrip().startswith("&"):
            self._carry = lines[-1:]  # its ``&`` line may still come
            lines = lines[:-1]
        if not self._told:
            self._head += lines
            stream = self._parse(self._head, self._options)
            if stream.layout == UNKNOWN and len(self._head) < HEAD_LINES and not final:
                return []
            self._told = True
            self.layout = stream.layout
            if stream.layout != UNKNOWN:
                order = stream.date_order if stream.date_order_told else None
                self._options = replace(self._options, layout=stream.layout,
                                        date_order=self._options.date_order or order)
            self._head = []
            return self._items(stream.items)
        if not lines:
            return []
        return self._items(self._parse(lines, self._options).items)

    def _parse(self, lines: list[str], options: SmdrOptions) -> SmdrStream:
        from drivers.panasonic.smdr import parse_stream as panasonic
        from drivers.toshiba.smdr import parse_stream as toshiba

        text = "\n".join(lines)
        if self._vendor == "toshiba":
            return toshiba(text, options, today=self._today())
        return panasonic(text, options)

    def _items(self, lines: list[SmdrLine]) -> list[Item]:
        out: list[Item] = []
        for line in lines:
            if line.kind == "error":
                self.rejected += 1
            if line.record is None and line.alarm is None:
                continue
            body = to_json(line)
            if line.record is not None:
                record = body["record"]
                out.append(Item("record", line.record.raw.rstrip("\r"), record["at"], record))
            else:
                alarm = body["alarm"]
                out.append(Item("alarm", line.raw.rstrip("\r").lstrip("\f"), alarm["at"],
                                alarm))
        return out
