"""The flapping rule: a fault that keeps clearing and coming back (docs/tickets.md).

A digital trunk that loses and regains sync every hour must not mail the helpdesk an
"all clear" and a "fault returned" every hour, nor open and close a ticket each time.
The rule: **three or more fault → all-clear transitions within 24 hours** mark the open
ticket ``flapping``. From then on its all-clear and recurrence notifications stop (the
occurrences are still recorded); the mark stays until the ticket is resolved, because a
fault that flapped once is not trusted to have stopped just because it was quiet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

FLAP_WINDOW: Final = timedelta(hours=24)
FLAP_THRESHOLD: Final = 3

#: One occurrence: when it was seen, and ``"fault"`` or ``"all_clear"``.
Event = tuple[datetime, str]


def clears_since(history: Sequence[Event], since: datetime) -> int:
    """Fault → all-clear transitions whose all-clear came at or after ``since``.

    ``history`` is in the order the occurrences happened; an all-clear after an all-clear
    (the site stayed healthy) is not a new transition.
    """
    count = 0
    previous: str | None = None
    for seen_at, kind in history:
        if kind == "all_clear" and previous == "fault" and seen_at >= since:
            count += 1
        previous = kind
    return count


def is_flapping(history: Sequence[Event], now: datetime, *, window: timedelta = FLAP_WINDOW,
                threshold: int = FLAP_THRESHOLD) -> bool:
    """Has the fault cleared ``threshold`` times within ``window`` before ``now``?"""
    return clears_since(history, now - window) >= threshold
