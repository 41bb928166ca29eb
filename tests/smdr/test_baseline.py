"""The four-week per-hour baseline and the two signals, as pure arithmetic at a fixed now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.smdr import signals
from agent.smdr.baseline import (
    build_baseline,
    expected_calls,
    hour_of_week,
    working_overlap,
)
from agent.tickets.sla import WorkingCalendar

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingCalendar()  # Mon–Fri 09:00–17:30 Europe/London, England's bank holidays
WED = datetime(2026, 6, 10, 14, 30, tzinfo=LONDON)  # a Wednesday in June, no holiday near


def local(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def working_calls(now: datetime, per_hour: int, *, days: int = 28) -> list[datetime]:
    """``per_hour`` outgoing calls in every working hour of the ``days`` before ``now``."""
    calls = []
    for back in range(days, -1, -1):
        day = now - timedelta(days=back)
        if not CALENDAR.is_working_day(day.date()):
            continue
        for hour in range(9, 18):
            for n in range(per_hour):
                at = local(day, hour, 5 + n * (50 // per_hour))
                if at < now and (hour < 17 or at.minute < 30):
                    calls.append(at)
    return calls


def test_hour_of_week_is_counted_in_the_calendars_zone() -> None:
    assert hour_of_week(local(WED, 14), CALENDAR) == 2 * 24 + 14
    # 13:30 UTC in June is 14:30 in London
    assert hour_of_week(datetime(2026, 6, 10, 13, 30, tzinfo=UTC), CALENDAR) == 2 * 24 + 14


def test_the_mean_is_per_working_occurrence_of_the_hour() -> None:
    calls = working_calls(WED, 2)
    history = WED - timedelta(weeks=8)
    baseline = build_baseline(calls, calendar=CALENDAR, now=WED, history_start=history)
    wed_ten = 2 * 24 + 10
    assert baseline.occurrences[wed_ten] == 4  # four Wednesdays in the window
    assert baseline.mean(wed_ten) == 2.0
    assert baseline.mean(5 * 24 + 10) == 0.0  # Saturday: never a working hour
    assert baseline.mean(2 * 24 + 20) == 0.0  # Wednesday evening


def test_calls_outside_working_hours_and_before_the_window_do_not_count() -> None:
    calls = [local(WED - timedelta(days=7), 20), local(WED - timedelta(days=35), 10),
             local(WED - timedelta(days=7), 10), local(WED - timedelta(days=14), 10)]
    baseline = build_baseline(calls, calendar=CALENDAR, now=WED,
                              history_start=WED - timedelta(weeks=8))
    assert baseline.mean(2 * 24 + 10) == pytest.approx(2 / 4)
    assert baseline.mean(2 * 24 + 20) == 0.0


def test_a_young_history_averages_over_what_it_has_and_one_week_is_not_enough() -> None:
    calls = working_calls(WED, 3, days=13)
    two_weeks = build_baseline(calls, calendar=CALENDAR, now=WED,
                               history_start=WED - timedelta(days=13, hours=6))
    assert two_weeks.occurrences[2 * 24 + 10] == 2
    assert two_weeks.mean(2 * 24 + 10) == 3.0
    one_week = build_baseline(calls, calendar=CALENDAR, now=WED,
                              history_start=WED - timedelta(days=6, hours=6))
    assert one_week.mean(2 * 24 + 10) == 0.0  # seen once: no pattern yet


def test_a_bank_holiday_is_not_an_occurrence() -> None:
    now = datetime(2026, 6, 3, 12, 0, tzinfo=LONDON)  # Wednesday after Spring bank holiday
    monday_ten = 0 * 24 + 10
    calls = working_calls(now, 1)
    holiday = datetime(2026, 5, 25, 10, 30, tzinfo=LONDON)
    assert not CALENDAR.is_working_day(holiday.date())
    baseline = build_baseline([*calls, holiday], calendar=CALENDAR, now=now,
                              history_start=now - timedelta(weeks=8))
    assert baseline.occurrences[monday_ten] == 3
    assert baseline.mean(monday_ten) == 1.0


def test_expected_calls_weighs_each_hour_by_its_working_part() -> None:
    baseline = build_baseline(working_calls(WED, 2), calendar=CALENDAR, now=WED,
                              history_start=WED - timedelta(weeks=8))
    # 10:30–12:00: half of the 10 o'clock hour and all of the 11 o'clock one
    assert expected_calls(baseline, calendar=CALENDAR, start=local(WED, 10, 30),
                          end=local(WED, 12)) == pytest.approx(3.0)
    # 17:00–21:00 on Tuesday: only 17:00–17:30 is working time, and the 17 o'clock hour's
    # mean is 1 (its second call would be at 17:30, after the day's end)
    tue = WED - timedelta(days=1)
    assert baseline.mean(1 * 24 + 17) == 1.0
    assert expected_calls(baseline, calendar=CALENDAR, start=local(tue, 17),
                          end=local(tue, 21)) == pytest.approx(0.5)


def test_working_overlap_skips_nights_and_weekends() -> None:
    fri = WED + timedelta(days=2)
    mon = WED + timedelta(days=5)
    assert working_overlap(local(fri, 17), local(mon, 9, 45), CALENDAR) == timedelta(
        minutes=30 + 45)


def test_silence_counts_working_minutes_and_fires_only_in_working_hours() -> None:
    heard = local(WED, 9, 0)
    fired = signals.silence("s", calendar=CALENDAR, now=local(WED, 10, 1), last_heard=heard,
                            minutes=60)
    assert fired is not None and fired.kind == signals.SILENCE and fired.window == heard
    assert signals.silence("s", calendar=CALENDAR, now=local(WED, 9, 59), last_heard=heard,
                           minutes=60) is None
    # heard at 17:00 the day before: 30 working minutes then, 20 this morning
    assert signals.silence("s", calendar=CALENDAR, now=local(WED, 9, 20),
                           last_heard=local(WED - timedelta(days=1), 17), minutes=60) is None
    # silent all day, but it is evening now
    assert signals.silence("s", calendar=CALENDAR, now=local(WED, 20), last_heard=heard,
                           minutes=60) is None


def test_no_outgoing_fires_when_the_baseline_expected_calls() -> None:
    calls = [c for c in working_calls(WED, 4) if c < local(WED, 12)]
    history = WED - timedelta(weeks=6)
    fired = signals.no_outgoing("s", calendar=CALENDAR, now=WED, calls=calls,
                                history_start=history, minutes=120, expected=3)
    assert fired is not None and fired.kind == signals.NO_OUTGOING
    assert fired.window == max(calls)
    assert fired.detail["expected_calls"] >= 3


def test_no_outgoing_stays_quiet_where_the_site_rarely_calls() -> None:
    # one call a day at 09:05: three quiet hours in an afternoon expect almost nothing
    calls = [c for c in working_calls(WED, 1) if c.hour == 9]
    assert signals.no_outgoing("s", calendar=CALENDAR, now=WED, calls=calls,
                               history_start=WED - timedelta(weeks=6), minutes=120,
                               expected=3) is None


def test_no_outgoing_needs_the_quiet_stretch_and_a_history() -> None:
    calls = [c for c in working_calls(WED, 4) if c < local(WED, 13)]
    assert signals.no_outgoing("s", calendar=CALENDAR, now=WED, calls=calls,
                               history_start=WED - timedelta(weeks=6), minutes=120,
                               expected=3) is None  # quiet since 12:55 only
    assert signals.no_outgoing("s", calendar=CALENDAR, now=WED, calls=[], history_start=None,
                               minutes=120, expected=3) is None
