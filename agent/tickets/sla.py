"""SLA clocks: working-hours arithmetic and the deadlines of a fault (SLA.md).

Pure functions. Working time is measured in real elapsed time inside each day's local
working window, so a deadline is right across a clock change; arithmetic is done in UTC
and only the windows are drawn in local time. Bank holidays come from the ``holidays``
package for the customer's UK nation, because they differ (Easter Monday is not a
Scottish bank holiday; the summer one is the first Monday of August in Scotland and the
last elsewhere).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from agent.errors import InputError
from agent.tickets.classify import FAULT_CLASSES, is_priority

NATION_SUBDIVISIONS: Final = {
    "england": "ENG",
    "scotland": "SCT",
    "wales": "WLS",
    "northern_ireland": "NIR",
}
ESCALATION_LEVELS: Final = ("account_manager", "technical_director")
_DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: A calendar with no working time for this long is misconfigured, not a long weekend.
_MAX_IDLE_DAYS: Final = 400


@lru_cache(maxsize=64)
def bank_holidays(nation: str, year: int) -> frozenset[date]:
    """The nation's bank holidays (observed days included) in one year."""
    subdiv = NATION_SUBDIVISIONS[nation]
    return frozenset(holidays.country_holidays("GB", subdiv=subdiv, years=year).keys())


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """When the SLA's working-hours clock runs: weekdays and hours, minus holidays."""

    timezone: str = "Europe/London"
    working_days: Collection[int] = frozenset(range(5))  # Monday = 0
    day_start: time = time(9, 0)
    day_end: time = time(17, 30)
    nation: str = "england"
    extra_holidays: Collection[date] = frozenset()

    def __post_init__(self) -> None:
        nation = self.nation.strip().lower().replace(" ", "_").replace("-", "_")
        if nation not in NATION_SUBDIVISIONS:
            raise InputError(f"unknown UK nation {self.nation!r}; "
                             f"expected one of {', '.join(NATION_SUBDIVISIONS)}")
        days = frozenset(self.working_days)
        if not days or not days <= frozenset(range(7)):
            raise InputError(f"working days must be a non-empty subset of 0–6, got {sorted(days)}")
        if self.day_start >= self.day_end:
            raise InputError(f"working day must start before it ends: "
                             f"{self.day_start:%H:%M}–{self.day_end:%H:%M}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(f"unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "nation", nation)
        object.__setattr__(self, "working_days", days)
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        return day in self.extra_holidays or day in bank_holidays(self.nation, day.year)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and not self.is_holiday(day)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working window as UTC instants; None on a non-working day."""
        if not self.is_working_day(day):
            return None
        start = datetime.combine(day, self.day_start, tzinfo=self.zone)
        end = datetime.combine(day, self.day_end, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def describe(self) -> str:
        """One line for a ticket, so the clock it was given can be explained later."""
        nation = self.nation.replace("_", " ").title()
        text = (f"{_describe_days(frozenset(self.working_days))} "
                f"{self.day_start:%H:%M}–{self.day_end:%H:%M} {self.timezone}, "
                f"{nation} bank holidays")
        extra = len(self.extra_holidays)
        return text + (f" + {extra} extra holiday{'s' if extra != 1 else ''}" if extra else "")


@dataclass(frozen=True, slots=True)
class Contract:
    """A customer's service levels; every value is configurable per contract (SLA.md)."""

    name: str = "standard"
    major_response_hours: float = 4  # elapsed hours: time to site, not time to fix
    minor_response_working_hours: float = 8
    parts_working_hours: float = 8
    escalation_working_hours: tuple[float, float] = (4, 8)
    remote_access_minutes: float = 45
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def __post_init__(self) -> None:
        values = (self.major_response_hours, self.minor_response_working_hours,
                  self.parts_working_hours, *self.escalation_working_hours,
                  self.remote_access_minutes)
        if any(v < 0 for v in values):
            raise InputError(f"contract {self.name!r}: SLA times must not be negative")
        if len(self.escalation_working_hours) != len(ESCALATION_LEVELS):
            raise InputError(f"contract {self.name!r}: escalation_working_hours needs "
                             f"{len(ESCALATION_LEVELS)} values")


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When each SLA promise falls due, in the contract calendar's time zone."""

    response: datetime
    parts: datetime | None  # Major faults only
    escalations: tuple[tuple[str, datetime], ...]
    remote_access: datetime


def add_working_hours(start: datetime, hours: float, cal: WorkingCalendar) -> datetime:
    """The instant ``hours`` of working time after ``start``, in the calendar's zone.

    A start outside working time waits for the next window (so zero hours at a weekend
    means Monday's opening); a deadline that lands on a window's end stays there.
    """
    _require_aware(start)
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours}")
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(UTC)
    day = start.astimezone(cal.zone).date()
    idle = 0
    while idle <= _MAX_IDLE_DAYS:
        window = cal.window(day)
        if window is not None and cursor <= window[1]:
            cursor = max(cursor, window[0])
            available = window[1] - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(cal.zone)
            remaining -= available
            idle = 0
        else:
            idle += 1
        day += timedelta(days=1)
    raise ValueError(f"calendar has no working time for {_MAX_IDLE_DAYS} days after {start}")


def working_time_between(start: datetime, end: datetime, cal: WorkingCalendar) -> timedelta:
    """Working time elapsed from ``start`` to ``end`` (zero if ``end`` is not later)."""
    _require_aware(start)
    _require_aware(end)
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    day = start.astimezone(cal.zone).date()
    last = end.astimezone(cal.zone).date()
    while day <= last:
        window = cal.window(day)
        if window is not None:
            overlap = min(hi, window[1]) - max(lo, window[0])
            total += max(overlap, timedelta(0))
        day += timedelta(days=1)
    return total


def add_elapsed_hours(start: datetime, hours: float, cal: WorkingCalendar) -> datetime:
    """Real elapsed time (a 4-hour response is 4 hours, nights and clock changes included)."""
    _require_aware(start)
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(cal.zone)


def deadlines(priority: str, opened_at: datetime, contract: Contract) -> Deadlines:
    """Response, parts, escalation and remote-access deadlines for a fault opened now."""
    if not is_priority(priority):
        raise ValueError(f"unknown priority {priority!r}")
    cal = contract.calendar
    major = FAULT_CLASSES[priority] == "Major"
    if major:
        response = add_elapsed_hours(opened_at, contract.major_response_hours, cal)
    else:
        response = add_working_hours(opened_at, contract.minor_response_working_hours, cal)
    parts = add_working_hours(opened_at, contract.parts_working_hours, cal) if major else None
    escalations = tuple(
        (level, add_working_hours(opened_at, hours, cal))
        for level, hours in zip(ESCALATION_LEVELS, contract.escalation_working_hours, strict=True)
    )
    remote = add_elapsed_hours(opened_at, contract.remote_access_minutes / 60, cal)
    return Deadlines(response=response, parts=parts, escalations=escalations, remote_access=remote)


def _require_aware(moment: datetime) -> None:
    """A naive time has no place on an SLA clock: which 09:00 would it be?"""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment.isoformat()}")


def _describe_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{_DAY_NAMES[ordered[0]]}–{_DAY_NAMES[ordered[-1]]}"
    return ", ".join(_DAY_NAMES[d] for d in ordered)
