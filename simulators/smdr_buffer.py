"""The PBX's SMDR buffer: what it prints on its SMDR port, numbered, and when it was down.

Apart from ``PbxState`` because numbering is a rule of its own: every item has a buffer
sequence number (what a streaming client resumes after), and call records and system
events also a record number, which a call still in progress does not use up. Not
thread-safe by itself: ``PbxState`` calls it under its lock and signals the changes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from simulators.records import CallRecord, LogEntry, SmdrItem, SystemEvent

SMDR_CAPACITY = 2000  # items kept in the SMDR buffer; the oldest go first


class SmdrBuffer:
    """The last ``SMDR_CAPACITY`` items, with their numbers, and the power cuts."""

    def __init__(self) -> None:
        self._items: deque[SmdrItem] = deque(maxlen=SMDR_CAPACITY)
        self._seq = 0
        self._record_no = 0
        self._outages: list[tuple[datetime, datetime]] = []

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest item (0 when nothing was ever printed)."""
        return self._seq

    def append(self, item: SmdrItem) -> None:
        self._seq += 1
        if isinstance(item, CallRecord | SystemEvent) and not (
                isinstance(item, CallRecord) and item.progress):
            self._record_no += 1
            item = replace(item, seq=self._seq, record_no=self._record_no)
        elif not isinstance(item, LogEntry):
            item = replace(item, seq=self._seq)
        self._items.append(item)

    def merge_history(self, records: Iterable[CallRecord]) -> None:
        """Past records merged in by time, everything numbered afresh; calls that would
        have ended while the PBX was down are dropped."""
        items: list[SmdrItem] = [*self._items, *records]
        items = [i for i in items if not (isinstance(i, CallRecord) and self.in_outage(i.when))]
        items.sort(key=lambda item: item.when)
        self._items.clear()
        self._seq = self._record_no = 0
        for item in items:
            self.append(item)

    def after(self, after: int) -> list[tuple[int, SmdrItem]]:
        """Buffered items with their sequence numbers, those after ``after``."""
        first = self._seq - len(self._items) + 1
        return [(n, item) for n, item in enumerate(self._items, first) if n > after]

    def add_outage(self, start: datetime, end: datetime) -> None:
        self._outages.append((start, end))

    def in_outage(self, when: datetime) -> bool:
        return any(start <= when <= end for start, end in self._outages)

    def clock_changed_between(self, start: datetime, end: datetime) -> bool:
        return any(isinstance(i, SystemEvent) and i.kind == "clock" and start <= i.when <= end
                   for i in self._items)
