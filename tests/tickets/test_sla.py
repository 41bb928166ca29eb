"""SLA clocks: worked examples (weekends, UK nations' bank holidays, BST) and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import InputError
from agent.tickets.sla import (
    Contract,
    WorkingCalendar,
    add_working_hours,
    deadlines,
    working_time_between,
)

LONDON = ZoneInfo("Europe/London")
ENGLAND = WorkingCalendar()
SCOTLAND = WorkingCalendar(nation="scotland")
WALES = WorkingCalendar(nation="wales")
NI = WorkingCalendar(nation="northern_ireland")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


# --- worked examples -----------------------------------------------------------------


def test_friday_evening_fault_rolls_over_the_weekend() -> None:
    assert add_working_hours(at(2026, 4, 24, 17, 25), 4, ENGLAND) == at(2026, 4, 27, 12, 55)


def test_bank_holiday_monday_pushes_to_tuesday() -> None:
    # Friday 1 May 2026; Monday 4 May is the Early May bank holiday everywhere in the UK.
    assert add_working_hours(at(2026, 5, 1, 17, 25), 4, ENGLAND) == at(2026, 5, 5, 12, 55)


@pytest.mark.parametrize(("cal", "due"), [
    (ENGLAND, at(2026, 4, 7, 12, 55)),   # Good Friday and Easter Monday
    (WALES, at(2026, 4, 7, 12, 55)),
    (NI, at(2026, 4, 7, 12, 55)),
    (SCOTLAND, at(2026, 4, 6, 12, 55)),  # Easter Monday is not a Scottish bank holiday
])
def test_easter(cal: WorkingCalendar, due: datetime) -> None:
    assert add_working_hours(at(2026, 4, 2, 17, 25), 4, cal) == due


@pytest.mark.parametrize(("start", "cal", "due"), [
    # England: the last Monday of August (31 Aug 2026); Scotland: the first (3 Aug 2026).
    (at(2026, 8, 28, 17, 25), ENGLAND, at(2026, 9, 1, 12, 55)),
    (at(2026, 8, 28, 17, 25), SCOTLAND, at(2026, 8, 31, 12, 55)),
    (at(2026, 7, 31, 17, 25), ENGLAND, at(2026, 8, 3, 12, 55)),
    (at(2026, 7, 31, 17, 25), SCOTLAND, at(2026, 8, 4, 12, 55)),
])
def test_august_bank_holiday(start: datetime, cal: WorkingCalendar, due: datetime) -> None:
    assert add_working_hours(start, 4, cal) == due


def test_st_patricks_day_only_in_northern_ireland() -> None:
    start = at(2026, 3, 16, 17, 0)  # Monday; Tuesday 17 March is St Patrick's Day
    assert add_working_hours(start, 1, NI) == at(2026, 3, 18, 9, 30)
    assert add_working_hours(start, 1, ENGLAND) == at(2026, 3, 17, 9, 30)


def test_christmas_with_boxing_day_observed() -> None:
    # Fri 25 Dec holiday, Sat 26, Sun 27, Mon 28 Boxing Day (substitute).
    assert add_working_hours(at(2026, 12, 24, 17, 0), 1, ENGLAND) == at(2026, 12, 29, 9, 30)


def test_spring_forward_weekend() -> None:
    # Clocks go forward on Sunday 29 March 2026: Friday is GMT, Monday BST.
    due = add_working_hours(at(2026, 3, 27, 16, 0), 4, ENGLAND)
    assert due == at(2026, 3, 30, 11, 30)
    assert due.utcoffset() == timedelta(hours=1)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 10, 30, tzinfo=UTC)


def test_fall_back_weekend() -> None:
    # Clocks go back on Sunday 25 October 2026: Friday is BST, Monday GMT.
    due = add_working_hours(at(2026, 10, 23, 16, 0), 4, ENGLAND)
    assert due == at(2026, 10, 26, 11, 30)
    assert due.utcoffset() == timedelta(0)


def test_major_response_is_elapsed_time_across_the_clock_change() -> None:
    opened = at(2026, 3, 28, 23, 30)  # Saturday night, GMT
    due = deadlines("P1", opened, Contract()).response
    # Same-zone subtraction in Python is wall-clock (5 h here): compare real instants.
    assert due.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=4)
    assert (due.hour, due.minute, due.utcoffset()) == (4, 30, timedelta(hours=1))


def test_start_given_in_utc_is_read_in_london_time() -> None:
    start = datetime(2026, 4, 24, 16, 25, tzinfo=UTC)  # 17:25 BST
    assert add_working_hours(start, 4, ENGLAND) == at(2026, 4, 27, 12, 55)


@pytest.mark.parametrize(("start", "hours", "due"), [
    (at(2026, 4, 27, 7, 0), 1, at(2026, 4, 27, 10, 0)),       # before opening
    (at(2026, 4, 25, 12, 0), 1, at(2026, 4, 27, 10, 0)),      # Saturday
    (at(2026, 4, 27, 9, 0), 8.5, at(2026, 4, 27, 17, 30)),    # lands on closing time
    (at(2026, 4, 27, 9, 0), 17, at(2026, 4, 28, 17, 30)),
    (at(2026, 4, 27, 9, 0), 20, at(2026, 4, 29, 12, 0)),
    (at(2026, 4, 27, 17, 30), 4, at(2026, 4, 28, 13, 0)),     # reported at closing time
    (at(2026, 4, 25, 12, 0), 0, at(2026, 4, 27, 9, 0)),       # zero waits for opening
])
def test_window_edges(start: datetime, hours: float, due: datetime) -> None:
    assert add_working_hours(start, hours, ENGLAND) == due


def test_extra_holidays_and_custom_hours() -> None:
    cal = WorkingCalendar(working_days=[0, 1, 2, 3, 4, 5], day_start=time(8, 0),
                          day_end=time(12, 0), extra_holidays=[date(2026, 4, 27)])
    # Sat 25 Apr is a working morning here; Mon 27 Apr is the customer's own holiday.
    assert add_working_hours(at(2026, 4, 24, 11, 0), 6, cal) == at(2026, 4, 28, 9, 0)


def test_rejects_naive_and_negative() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_hours(datetime(2026, 4, 24, 17, 25), 4, ENGLAND)
    with pytest.raises(ValueError, match="negative"):
        add_working_hours(at(2026, 4, 24, 17, 25), -1, ENGLAND)


def test_working_time_between() -> None:
    assert working_time_between(at(2026, 4, 24, 17, 25), at(2026, 4, 27, 12, 55),
                                ENGLAND) == timedelta(hours=4)
    assert working_time_between(at(2026, 4, 27, 12, 0), at(2026, 4, 27, 11, 0),
                                ENGLAND) == timedelta(0)


# --- calendar validation -------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"nation": "atlantis"},
    {"timezone": "Mars/Olympus_Mons"},
    {"day_start": time(17, 30), "day_end": time(9, 0)},
    {"working_days": []},
    {"working_days": [7]},
])
def test_bad_calendar_is_input_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        WorkingCalendar(**kwargs)  # type: ignore[arg-type]


def test_nation_spelling_is_forgiving() -> None:
    assert WorkingCalendar(nation="Northern Ireland").nation == "northern_ireland"


def test_describe() -> None:
    assert ENGLAND.describe() == "Mon–Fri 09:00–17:30 Europe/London, England bank holidays"
    cal = WorkingCalendar(working_days=[0, 2], nation="scotland",
                          extra_holidays=[date(2026, 1, 5)])
    assert cal.describe() == ("Mon, Wed 09:00–17:30 Europe/London, Scotland bank holidays"
                              " + 1 extra holiday")


def test_calendar_is_hashable_and_equal_by_value() -> None:
    assert WorkingCalendar(extra_holidays=[date(2026, 1, 5)]) == WorkingCalendar(
        extra_holidays=(date(2026, 1, 5),))
    assert hash(ENGLAND) == hash(WorkingCalendar())


# --- deadlines -----------------------------------------------------------------------


def test_major_fault_deadlines_friday_evening() -> None:
    opened = at(2026, 4, 24, 17, 25)
    d = deadlines("P1", opened, Contract())
    assert d.response == at(2026, 4, 24, 21, 25)  # 4 elapsed hours: time to site
    assert d.parts == at(2026, 4, 27, 16, 55)     # 8 working hours
    assert d.escalations == (("account_manager", at(2026, 4, 27, 12, 55)),
                             ("technical_director", at(2026, 4, 27, 16, 55)))
    assert d.remote_access == at(2026, 4, 24, 18, 10)


def test_minor_fault_deadlines() -> None:
    d = deadlines("P3", at(2026, 4, 24, 17, 25), Contract())
    assert d.response == at(2026, 4, 27, 16, 55)
    assert d.parts is None
    assert [level for level, _ in d.escalations] == ["account_manager", "technical_director"]


def test_p2_is_major() -> None:
    d = deadlines("P2", at(2026, 4, 27, 10, 0), Contract())
    assert d.response == at(2026, 4, 27, 14, 0)
    assert d.parts is not None


def test_contract_values_are_used() -> None:
    contract = Contract(name="gold", major_response_hours=2, minor_response_working_hours=4,
                        parts_working_hours=4, escalation_working_hours=(1, 2),
                        remote_access_minutes=15, calendar=SCOTLAND)
    opened = at(2026, 4, 3, 16, 0)  # Good Friday: a holiday in Scotland too
    major = deadlines("P1", opened, contract)
    assert major.response == at(2026, 4, 3, 18, 0)
    assert major.parts == at(2026, 4, 6, 13, 0)  # Easter Monday is a Scottish working day
    assert major.escalations[0] == ("account_manager", at(2026, 4, 6, 10, 0))
    assert major.remote_access == at(2026, 4, 3, 16, 15)
    assert deadlines("P3", opened, contract).response == at(2026, 4, 6, 13, 0)


def test_contract_rejects_negative_times() -> None:
    with pytest.raises(InputError):
        Contract(major_response_hours=-1)


def test_unknown_priority() -> None:
    with pytest.raises(ValueError, match="priority"):
        deadlines("P7", at(2026, 4, 27, 10, 0), Contract())


# --- properties ----------------------------------------------------------------------

_starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(LONDON), allow_imaginary=False)
_minutes = st.integers(min_value=0, max_value=60 * 40)
_calendars = st.sampled_from([ENGLAND, SCOTLAND, WALES, NI])
_EPS = timedelta(milliseconds=1)


@settings(max_examples=200)
@given(start=_starts, minutes=_minutes, cal=_calendars)
def test_adds_exactly_that_much_working_time(start: datetime, minutes: int,
                                             cal: WorkingCalendar) -> None:
    due = add_working_hours(start, minutes / 60, cal)
    assert due >= start
    spent = working_time_between(start, due, cal)
    assert abs(spent - timedelta(minutes=minutes)) < _EPS
    local = due.astimezone(cal.zone)
    assert cal.is_working_day(local.date())
    assert cal.day_start <= local.time() <= cal.day_end


@settings(max_examples=200)
@given(start=_starts, a=_minutes, b=_minutes, cal=_calendars)
def test_adding_in_two_steps_equals_adding_once(start: datetime, a: int, b: int,
                                                cal: WorkingCalendar) -> None:
    twice = add_working_hours(add_working_hours(start, a / 60, cal), b / 60, cal)
    once = add_working_hours(start, (a + b) / 60, cal)
    assert abs(twice - once) < _EPS


# --- escalations: the same clock, worked examples ----------------------------------------


def _escalations(opened: datetime, cal: WorkingCalendar) -> list[tuple[str, datetime]]:
    return list(deadlines("P2", opened, Contract(calendar=cal)).escalations)


def test_escalations_for_a_fault_logged_at_1725_on_a_friday() -> None:
    assert _escalations(at(2026, 4, 24, 17, 25), ENGLAND) == [
        ("account_manager", at(2026, 4, 27, 12, 55)),
        ("technical_director", at(2026, 4, 27, 16, 55))]


@pytest.mark.parametrize(("cal", "am", "td"), [
    # Thursday 2 April 2026 17:25; Good Friday everywhere, Easter Monday not in Scotland.
    (ENGLAND, at(2026, 4, 7, 12, 55), at(2026, 4, 7, 16, 55)),
    (SCOTLAND, at(2026, 4, 6, 12, 55), at(2026, 4, 6, 16, 55)),
])
def test_escalations_over_easter(cal: WorkingCalendar, am: datetime, td: datetime) -> None:
    assert _escalations(at(2026, 4, 2, 17, 25), cal) == [
        ("account_manager", am), ("technical_director", td)]


@pytest.mark.parametrize(("start", "cal", "am", "td"), [
    # Friday 28 August: England loses Monday 31 August, Scotland does not.
    (at(2026, 8, 28, 14, 0), ENGLAND, at(2026, 9, 1, 9, 30), at(2026, 9, 1, 13, 30)),
    (at(2026, 8, 28, 14, 0), SCOTLAND, at(2026, 8, 31, 9, 30), at(2026, 8, 31, 13, 30)),
    # Friday 31 July: Scotland loses Monday 3 August, England does not.
    (at(2026, 7, 31, 14, 0), ENGLAND, at(2026, 8, 3, 9, 30), at(2026, 8, 3, 13, 30)),
    (at(2026, 7, 31, 14, 0), SCOTLAND, at(2026, 8, 4, 9, 30), at(2026, 8, 4, 13, 30)),
])
def test_escalations_over_the_august_bank_holiday(start: datetime, cal: WorkingCalendar,
                                                  am: datetime, td: datetime) -> None:
    assert _escalations(start, cal) == [("account_manager", am), ("technical_director", td)]


def test_escalations_across_the_spring_clock_change() -> None:
    # Friday 27 March 2026 15:00 GMT: 2.5 h left on Friday, the rest on Monday in BST.
    (_, am), (_, td) = _escalations(at(2026, 3, 27, 15, 0), ENGLAND)
    assert am == at(2026, 3, 30, 10, 30) and am.utcoffset() == timedelta(hours=1)
    assert td == at(2026, 3, 30, 14, 30)
    assert working_time_between(at(2026, 3, 27, 15, 0), td, ENGLAND) == timedelta(hours=8)


def test_escalations_across_the_autumn_clock_change() -> None:
    (_, am), (_, td) = _escalations(at(2026, 10, 23, 15, 0), ENGLAND)
    assert (am, td) == (at(2026, 10, 26, 10, 30), at(2026, 10, 26, 14, 30))
    assert am.utcoffset() == timedelta(0)


def test_escalations_skip_a_contract_holiday() -> None:
    cal = WorkingCalendar(extra_holidays=[date(2026, 4, 27)])  # the customer's own day off
    assert _escalations(at(2026, 4, 24, 17, 25), cal) == [
        ("account_manager", at(2026, 4, 28, 12, 55)),
        ("technical_director", at(2026, 4, 28, 16, 55))]
