"""Settings ↔ Panasonic programs: addresses, notations and bad values."""

from __future__ import annotations

import pytest

from agent.errors import InputError, ParseError
from drivers.panasonic import programs


@pytest.mark.parametrize(("key", "target", "expected"), [
    ("extension_name", "201", "004 201"),
    ("extension_pin", "201", "005 201"),
    ("time_service_mode", None, "101"),
    ("clock", None, "000"),
    ("trunk_state", "3", "410 03"),
    ("extension_forward", "205", "711 205"),
])
def test_addresses(key: str, target: str | None, expected: str) -> None:
    assert programs.address(key, target) == expected


@pytest.mark.parametrize(("key", "target"), [
    ("extension_name", None), ("clock", "201"), ("trunk_state", "100"),
    ("extension_name", "2x1"), ("no_such_setting", None),
])
def test_bad_addresses(key: str, target: str | None) -> None:
    with pytest.raises(InputError):
        programs.address(key, target)


def test_read_reply_must_answer_the_question() -> None:
    assert programs.parse_reply('004 201 = "Reception"', "004 201") == '"Reception"'
    with pytest.raises(ParseError):
        programs.parse_reply('004 202 = "Sales"', "004 201")


def test_round_trips_between_notations() -> None:
    assert programs.from_pbx("extension_name", '"Sales 2"') == "Sales 2"
    assert programs.from_pbx("time_service_mode", "NIGHT MANUAL") == "night"
    assert programs.from_pbx("time_service_switching", "NIGHT MANUAL") == "manual"
    assert programs.from_pbx("clock", "27/11/26 15:48:13") == "2026-11-27T15:48:13"
    assert programs.from_pbx("trunk_state", "OUS") == "busied_out"
    assert programs.from_pbx("extension_forward", "NONE") == "none"
    assert programs.to_pbx("clock", "2026-11-27T15:48:13", current=str) == "27/11/26 15:48:13"
    assert programs.to_pbx("trunk_state", "in_service", current=str) == "INS"
    assert programs.to_pbx("extension_name", "Sales 2", current=str) == '"Sales 2"'


def test_mode_and_switching_share_program_101() -> None:
    assert programs.to_pbx("time_service_mode", "night", current=lambda: "DAY AUTO") == (
        "NIGHT AUTO")
    assert programs.to_pbx("time_service_switching", "manual",
                           current=lambda: "NIGHT AUTO") == "NIGHT MANUAL"


@pytest.mark.parametrize(("key", "value"), [
    ("extension_name", "A name much longer than sixteen"), ("extension_name", 'Quo"te'),
    ("extension_pin", "12"), ("extension_pin", "12ab"), ("trunk_state", "down"),
    ("clock", "yesterday"), ("extension_forward", "07700 900123"),
])
def test_invalid_values_are_bad_input(key: str, value: str) -> None:
    with pytest.raises(InputError):
        programs.to_pbx(key, value, current=lambda: "DAY AUTO")


def test_dump_is_normalised_and_sorted() -> None:
    dump = '101 = DAY AUTO\n004 202 = "Sales"\n\n004 201 = "Reception"\nOK\n'
    assert programs.normalise_backup(dump) == (
        '004 201 = "Reception"\n004 202 = "Sales"\n101 = DAY AUTO\n')
