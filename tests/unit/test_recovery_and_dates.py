"""Recovery codes paired with the failures they clear; hand-parsed dates."""

from __future__ import annotations

from datetime import datetime

import pytest

from drivers.model import Alarm, AlarmLevel, Location
from drivers.recovery import pair_recoveries
from drivers.textparse import day_month_year, month_day_year


def entry(code: str, minute: int, slot: int = 5) -> Alarm:
    return Alarm(level=AlarmLevel.MINOR, code=code, sub_code=f"1{slot:02d}00",
                 location=Location(1, slot), message="", first_seen=datetime(2026, 11, 27, 9,
                                                                              minute))


def test_flapping_pri_pairs_each_failure_with_its_recovery() -> None:
    log = [entry("301", 0), entry("390", 1), entry("301", 2), entry("390", 3), entry("301", 4)]
    paired = pair_recoveries(log)
    assert [e.recovery for e in paired] == [False, True, False, True, False]
    assert [e.cleared_at.minute if e.cleared_at else None for e in paired] == [
        1, None, 3, None, None]


def test_recovery_clears_only_its_own_card_and_events() -> None:
    log = [entry("301", 0, slot=5), entry("305", 1, slot=5), entry("301", 2, slot=6),
           entry("390", 3, slot=5)]
    paired = pair_recoveries(log)
    assert paired[0].cleared_at == log[3].first_seen  # same slot, a sync event
    assert paired[1].cleared_at is None  # 305 (data link) waits for a 391
    assert paired[2].cleared_at is None  # another card


def test_toshiba_codes_pair_by_event_number() -> None:
    paired = pair_recoveries([entry("5300", 0), entry("5390", 1), entry("6307", 2, slot=0),
                              entry("6393", 3, slot=0)])
    assert paired[0].cleared_at is not None and paired[2].cleared_at is not None
    assert paired[1].recovery and paired[3].recovery


def test_dates() -> None:
    assert day_month_year("06/01/11", "14:44") == datetime(2011, 1, 6, 14, 44)
    assert month_day_year("11/27/26", "15:48:13") == datetime(2026, 11, 27, 15, 48, 13)
    for bad in (("30/02/26", "10:00"), ("06-01-11", "14:44"), ("06/01/11", "1444"),
                ("ab/cd/ef", "14:44"), ("06/01/11", "25:00")):
        with pytest.raises(ValueError):
            day_month_year(*bad)
