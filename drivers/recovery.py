"""Recovery codes in an error log, paired with the failures they clear.

Panasonic logs 390 (digital sync established), 391 (data link established) and 393 (LAN
carrier detected) after the failures they end; a flapping PRI shows 301→390 repeating.
Toshiba's four-digit codes carry the same event number after a category digit
(docs/dialects/toshiba.md). Pairing is by event and location: a recovery clears every
earlier, still-uncleared failure it names on the same card (or anywhere, for LAN).
"""

from __future__ import annotations

from dataclasses import replace

from drivers.model import Alarm

#: recovery event → the failure events it clears
CLEARS: dict[str, frozenset[str]] = {
    "390": frozenset({"300", "301", "302", "303", "304", "306"}),
    "391": frozenset({"305"}),
    "393": frozenset({"307"}),
}


def event(code: str) -> str:
    """The vendor-neutral event number: the last three digits of a Toshiba code."""
    return code[-3:] if len(code) == 4 and code.isdigit() else code


def _same_place(failure: Alarm, recovery: Alarm) -> bool:
    if event(recovery.code) == "393" or failure.location is None or recovery.location is None:
        return True
    return (failure.location.cabinet, failure.location.slot) == (
        recovery.location.cabinet, recovery.location.slot)


def pair_recoveries(entries: list[Alarm]) -> list[Alarm]:
    """The log (oldest first) with recoveries marked and the failures they cleared dated."""
    paired = list(entries)
    for index, entry in enumerate(paired):
        cleared = CLEARS.get(event(entry.code))
        if cleared is None:
            continue
        paired[index] = replace(entry, recovery=True)
        for earlier in range(index):
            failure = paired[earlier]
            if (failure.cleared_at is None and not failure.recovery
                    and event(failure.code) in cleared and _same_place(failure, entry)):
                paired[earlier] = replace(failure, cleared_at=entry.first_seen)
    return paired
