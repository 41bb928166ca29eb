"""A site's own calling pattern: outgoing calls per working hour-of-week over four weeks.

Pure arithmetic over the call records the monitor stored, so the "calls were expected"
half of the no-outgoing-calls signal can be tested without a PBX or a clock. An hour of
the week is ``weekday * 24 + hour`` in the contract calendar's time zone. Its baseline is
the mean number of outgoing calls that began in that clock hour, over the *working*
occurrences of the hour in the last four weeks (bank holidays and hours outside the
calendar's day are not occurrences), counted only from when the site's history starts —
a site the monitor has watched for a week has a one-week baseline, not a quarter of one.
An hour seen fewer than ``MIN_OCCURRENCES`` times has no baseline (expects nothing):
one busy Tuesday is not a pattern.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from agent.tickets.sla import WorkingCalendar

WEEKS: Final = 4
MIN_OCCURRENCES: Final = 2
HOUR: Final = timedelta(hours=1)
MAX_DAYS: Final = 400  # working-time sums look at most this many days back
MAX_HOURS: Final = WEEKS * 7 * 24 + 48  # hours one baseline or expectation walks


def hour_of_week(moment: datetime, calendar: WorkingCalendar) -> int:
    """0 (Monday 00:00–01:00) … 167 (Sunday 23:00–24:00), in the calendar's zone."""
    local = moment.astimezone(calendar.zone)
    return local.weekday() * 24 + local.hour


def _floor_hour(moment: datetime) -> datetime:
    # UK zones (and every zone a contract names so far) are whole hours from UTC, so an
    # hour boundary in UTC is one in local time.
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def working_overlap(start: datetime, end: datetime, calendar: WorkingCalendar) -> timedelta:
    """How much of ``[start, end)`` falls inside the calendar's working windows."""
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date()
    last = end.astimezone(calendar.zone).date()
    first = max(day, last - timedelta(days=MAX_DAYS))
    day = first
    while day <= last:
        window = calendar.window(day)
        if window is not None:
            lo, hi = max(start, window[0]), min(end, window[1])
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def in_working_hours(moment: datetime, calendar: WorkingCalendar) -> bool:
    window = calendar.window(moment.astimezone(calendar.zone).date())
    return window is not None and window[0] <= moment < window[1]


def _working_hour(start: datetime, calendar: WorkingCalendar) -> bool:
    """The clock hour starting at ``start`` begins inside its day's working window."""
    window = calendar.window(start.astimezone(calendar.zone).date())
    return window is not None and window[0] <= start < window[1]


@dataclass(frozen=True, slots=True)
class Baseline:
    """Mean outgoing calls per hour-of-week, and how many occurrences each mean is of."""

    means: dict[int, float]
    occurrences: dict[int, int]

    def mean(self, how: int) -> float:
        """The baseline for an hour-of-week; 0 when it was seen too rarely to say."""
        if self.occurrences.get(how, 0) < MIN_OCCURRENCES:
            return 0.0
        return self.means.get(how, 0.0)


def build_baseline(calls: Iterable[datetime], *, calendar: WorkingCalendar, now: datetime,
                   history_start: datetime | None, weeks: int = WEEKS) -> Baseline:
    """The baseline from outgoing calls' start times (aware datetimes) before ``now``.

    Only whole clock hours inside ``[max(now - weeks, history_start), now)`` that begin in
    working time are occurrences; a call counts in the occurrence it began in."""
    start = now - timedelta(weeks=weeks)
    if history_start is not None:
        start = max(start, history_start)
    hour = _floor_hour(start)
    if hour < start:
        hour += HOUR
    occurrences: Counter[int] = Counter()
    counted: set[datetime] = set()
    for _ in range(MAX_HOURS):
        if hour + HOUR > now:
            break
        if _working_hour(hour, calendar):
            occurrences[hour_of_week(hour, calendar)] += 1
            counted.add(hour)
        hour += HOUR
    totals: Counter[int] = Counter()
    for call in calls:
        if _floor_hour(call) in counted:
            totals[hour_of_week(call, calendar)] += 1
    means = {how: totals[how] / n for how, n in occurrences.items()}
    return Baseline(means=means, occurrences=dict(occurrences))


def expected_calls(baseline: Baseline, *, calendar: WorkingCalendar, start: datetime,
                   end: datetime) -> float:
    """Outgoing calls the baseline expects in ``[start, end)``: each working hour's mean,
    weighted by the fraction of it (working time only) inside the interval."""
    start = max(start, end - timedelta(weeks=WEEKS))
    total = 0.0
    hour = _floor_hour(start)
    for _ in range(MAX_HOURS):
        if hour >= end:
            break
        part = working_overlap(max(hour, start), min(hour + HOUR, end), calendar)
        if part:
            total += baseline.mean(hour_of_week(hour, calendar)) * (part / HOUR)
        hour += HOUR
    return total
