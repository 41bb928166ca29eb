"""The two signals that a site may be in trouble though its PBX printed no alarm line.

Pure decisions, given the site's calendar and what the register holds, at an injected
``now`` (docs/smdr.md "Signals"):

- **silence**: nothing new came over the SMDR link for ``silence_minutes`` of *working*
  time (a quiet night or weekend does not count towards it);
- **no-outgoing**: no outgoing call over any CO line for ``no_outgoing_minutes`` of
  working time, while the site's baseline (``baseline``) expected at least
  ``expected_calls`` outgoing calls in that quiet stretch.

Both fire only while ``now`` is in working hours. Each names its *window* — the moment
the quiet began (the last item heard, the last outgoing call) — so a signal that stays
true is one signal, and at most one confirming run is started for it; a new item ends
the window, and the next quiet stretch is a new one. A signal never files anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from agent.smdr.baseline import (
    build_baseline,
    expected_calls,
    in_working_hours,
    working_overlap,
)
from agent.tickets.sla import WorkingCalendar

SILENCE: Final = "silence"
NO_OUTGOING: Final = "no-outgoing"


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal on one site: which, since when (its window), and the numbers behind it."""

    site_id: str
    kind: str
    window: datetime  # when the quiet began; with site and kind, the signal's identity
    detected_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


def silence(site_id: str, *, calendar: WorkingCalendar, now: datetime, last_heard: datetime,
            minutes: float) -> Signal | None:
    """The SMDR link has been silent for ``minutes`` of working time, now in working hours."""
    if not in_working_hours(now, calendar):
        return None
    quiet = working_overlap(last_heard, now, calendar)
    if quiet < timedelta(minutes=minutes):
        return None
    return Signal(site_id, SILENCE, last_heard, now,
                  {"silent_working_minutes": round(quiet.total_seconds() / 60, 1),
                   "threshold_minutes": minutes, "last_heard": last_heard.isoformat()})


def no_outgoing(site_id: str, *, calendar: WorkingCalendar, now: datetime,
                calls: Sequence[datetime], history_start: datetime | None, minutes: float,
                expected: float) -> Signal | None:
    """No outgoing call for ``minutes`` of working time though ``expected`` were due.

    ``calls`` are the site's outgoing calls' times (aware) over the last four weeks;
    ``history_start`` is its first stored record (no history: nothing is expected)."""
    if history_start is None or not in_working_hours(now, calendar):
        return None
    before = [c for c in calls if c <= now]
    since = max(before) if before else history_start
    quiet = working_overlap(since, now, calendar)
    if quiet < timedelta(minutes=minutes):
        return None
    baseline = build_baseline(before, calendar=calendar, now=now, history_start=history_start)
    due = expected_calls(baseline, calendar=calendar, start=since, end=now)
    if due < expected:
        return None
    return Signal(site_id, NO_OUTGOING, since, now,
                  {"quiet_working_minutes": round(quiet.total_seconds() / 60, 1),
                   "threshold_minutes": minutes, "expected_calls": round(due, 2),
                   "expected_threshold": expected, "last_outgoing":
                   since.isoformat() if before else None})
