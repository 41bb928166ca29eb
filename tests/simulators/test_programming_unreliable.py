"""The ``programming_unreliable`` fault: writes answered OK that do not stick (both dialects)."""

from __future__ import annotations

import pytest

from simulators import FaultError, load_scenario
from simulators.panasonic import programs as panasonic
from simulators.programming import ProgramError
from simulators.toshiba import programs as toshiba


def test_ignore_keeps_the_old_value_for_the_first_n_writes_only() -> None:
    pbx = load_scenario("panasonic-healthy")
    pbx.inject_fault("programming_unreliable", writes=1)
    old = pbx.extension("201").name
    panasonic.write(pbx, "004", ("201",), '"New name"')
    assert pbx.extension("201").name == old
    panasonic.write(pbx, "004", ("201",), '"New name"')  # the budget is spent
    assert pbx.extension("201").name == "New name"


def test_corrupt_drops_the_last_character_inside_the_quotes_on_every_write() -> None:
    pbx = load_scenario("toshiba-healthy")
    pbx.inject_fault("programming_unreliable", mode="corrupt")
    for _ in range(2):
        toshiba.put(pbx, 'PUT 200 2001 "Front Desk"')
        assert pbx.extension("2001").name == "Front Des"


def test_corrupt_keeps_the_old_value_when_the_garbled_one_is_not_valid() -> None:
    pbx = load_scenario("toshiba-healthy")
    pbx.inject_fault("programming_unreliable", mode="corrupt")
    toshiba.put(pbx, "PUT 300 001 OUT-SVC")  # "OUT-SV" is no trunk state
    assert not pbx.co_line(1).busied_out


def test_a_refused_value_is_refused_as_usual_and_uses_up_no_write() -> None:
    pbx = load_scenario("panasonic-healthy")
    pbx.inject_fault("programming_unreliable", writes=1)
    with pytest.raises(ProgramError):
        panasonic.write(pbx, "410", ("01",), "MAYBE")
    panasonic.write(pbx, "410", ("01",), "OUS")
    assert not pbx.co_line(1).busied_out  # this one was the unreliable write
    panasonic.write(pbx, "410", ("01",), "OUS")
    assert pbx.co_line(1).busied_out


def test_clearing_the_fault_makes_writes_stick_again() -> None:
    pbx = load_scenario("panasonic-healthy")
    pbx.inject_fault("programming_unreliable")
    pbx.clear_fault("programming_unreliable")
    panasonic.write(pbx, "101", (), "NIGHT MANUAL")
    assert pbx.time_service.mode == "NIGHT"


@pytest.mark.parametrize("params", [{"mode": "flaky"}, {"writes": -1}, {"writes": "1"}])
def test_bad_parameters_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(FaultError):
        load_scenario("panasonic-healthy").inject_fault("programming_unreliable", **params)
