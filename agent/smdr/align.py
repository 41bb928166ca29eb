"""Which items of a new connection are re-reads of what was stored before it.

A PBX's SMDR buffer keeps what it printed and prints it again to the next client, and
the monitor may have stored some or all of it (a reconnect, a restart, a SIGKILL between
reading and storing). The rule (docs/smdr.md): a new connection's stream is matched
against the *tail* of the site's stored items — the longest run at the start of the
stream that equals the end of what is stored is a re-read and is not stored again;
everything after it is new, identical or not (two equal records in one uninterrupted
stream are two calls). Pure and bounded: the tail is at most ``TAIL`` items, and while a
match is still possible the items wait here (``offer`` returns nothing) until it is
decided — by a mismatch, by reaching the end of the tail, or by the line falling quiet
(``settle``), when an undecided match counts as no match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

TAIL: Final = 2000  # stored items compared (a PBX's SMDR buffer holds about as many)

T = TypeVar("T")


class Aligner(Generic[T]):
    """One connection's items in, the new ones out, each exactly once, in order."""

    def __init__(self, tail: Sequence[str], key: Callable[[T], str]) -> None:
        self._tail = list(tail[-TAIL:])
        self._key = key
        self._held: list[T] = []
        self._alive: set[int] = set()
        self._overlap = 0
        self.decided = not self._tail
        self.reread = 0  # items found to be re-reads (for the log)

    def offer(self, item: T) -> list[T]:
        """The items now known to be new (possibly several, possibly none)."""
        if self.decided:
            return [item]
        key, n, i = self._key(item), len(self._tail), len(self._held)
        self._held.append(item)
        if i == 0:
            self._alive = {p for p, stored in enumerate(self._tail) if stored == key}
        else:
            self._alive = {p for p in self._alive if self._tail[p + i] == key}
        complete = {p for p in self._alive if p + i + 1 == n}
        if complete:
            self._overlap = i + 1  # later completions are longer: the longest wins
            self._alive -= complete
        return [] if self._alive else self._decide()

    def settle(self) -> list[T]:
        """The line fell quiet: decide with what matched completely so far."""
        return [] if self.decided else self._decide()

    def _decide(self) -> list[T]:
        self.decided = True
        self.reread = self._overlap
        new, self._held, self._alive = self._held[self._overlap:], [], set()
        return new

