"""Replies we did not expect: a typed result or a ``ParseError`` with the raw text, never a
``ValueError``/``KeyError``/``IndexError`` (issue 13 #1).

The known cases from the fault campaign, each through the real function that crashed,
plus the driver boundary (``reading``) that catches whatever a parser still misses.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.line.errors import InputError, ParseError
from drivers.panasonic import PanasonicDriver
from drivers.panasonic import parsers as panasonic
from drivers.panasonic import programs as panasonic_programs
from drivers.replies import SHOWN_LIMIT, number, reading, shown
from drivers.toshiba import ToshibaDriver
from drivers.toshiba import parsers as toshiba
from drivers.toshiba import programs as toshiba_programs


class ScriptedConsole:
    """What a driver asks of a console (``command``), answering from a script."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.sent: list[str] = []

    def command(self, command: str, *_args: Any, **_kwargs: Any) -> str:
        self.sent.append(command)
        return self.replies.get(command, "")


def driver(cls: type[Any], replies: dict[str, str]) -> Any:
    return cls(ScriptedConsole(replies))


# --- from_pbx: every setting read back ----------------------------------------------------


def test_panasonic_clock_of_hour_25_is_a_parse_error_with_the_raw_text() -> None:
    with pytest.raises(ParseError, match=r"25:61:00"):
        panasonic_programs.from_pbx("clock", "01/12/26 25:61:00")


def test_toshiba_clock_of_month_13_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"13/45/26"):
        toshiba_programs.from_pbx("clock", "13/45/26 10:00:00")


@pytest.mark.parametrize("programs", [panasonic_programs, toshiba_programs])
def test_an_unknown_trunk_state_is_a_parse_error_naming_the_word(programs: Any) -> None:
    with pytest.raises(ParseError, match=r"unknown word 'IN5'") as caught:
        programs.from_pbx("trunk_state", "IN5")
    assert caught.value.bad_lines == [(1, "IN5")]


@pytest.mark.parametrize(("key", "raw"), [
    ("extension_name", '"' + "N" * 200 + '"'),
    ("extension_name", '"Front\x07Desk"'),
    ("extension_forward", "20#1\x00"),
    ("extension_forward", "9" * 5000),
    ("time_service_mode", "TEA AUTO"),
    ("time_service_switching", "DAY SOMETIMES"),
    ("clock", "01/12/26 10:00:0"),  # a corrupted write: the last character lost
    ("clock", "٠١/١٢/٢٦ 10:00:00"),
])
@pytest.mark.parametrize("programs", [panasonic_programs, toshiba_programs])
def test_a_value_that_is_not_one_of_the_setting_is_a_parse_error(programs: Any, key: str,
                                                                 raw: str) -> None:
    with pytest.raises(ParseError) as caught:
        programs.from_pbx(key, raw)
    assert len(str(caught.value)) < 3 * SHOWN_LIMIT


@pytest.mark.parametrize(("programs", "key", "raw", "value"), [
    (panasonic_programs, "clock", "01/12/26 23:59:00", "2026-12-01T23:59:00"),
    (toshiba_programs, "clock", "12/01/26 23:59:00", "2026-12-01T23:59:00"),
    (panasonic_programs, "trunk_state", "OUS", "busied_out"),
    (toshiba_programs, "trunk_state", "IN-SVC", "in_service"),
    (panasonic_programs, "extension_name", '"Front Desk"', "Front Desk"),
    (panasonic_programs, "extension_name", '""', ""),
    (toshiba_programs, "extension_forward", "NONE", "none"),
    (toshiba_programs, "extension_forward", "2001", "2001"),
])
def test_good_values_still_read(programs: Any, key: str, raw: str, value: str) -> None:
    assert programs.from_pbx(key, raw) == value


@pytest.mark.parametrize("target", ["²", "1" * 5000, "01\n"])
def test_a_strange_trunk_target_is_bad_input_not_a_crash(target: str) -> None:
    with pytest.raises(InputError):
        panasonic_programs.address("trunk_state", target)


def test_an_extension_target_with_a_final_newline_is_refused() -> None:
    """``$`` matches before a final newline: the target would end the command early."""
    with pytest.raises(InputError):
        toshiba_programs.address("extension_name", "201\n")


# --- parsers ------------------------------------------------------------------------------


def test_a_co_number_of_thousands_of_digits_is_a_bad_line() -> None:
    row = "9" * 5000 + "  1  03  01  LCOT  INS"
    trunks, bad = panasonic.parse_trunks(f"CO CAB SLT PRT KIND STATUS\n{row}\n")
    assert trunks == []
    assert bad == [(2, row)]


def test_non_ascii_digits_are_not_numbers() -> None:
    row = "٠٣  1  03  01  LCOT  INS"
    trunks, bad = panasonic.parse_trunks(f"CO CAB SLT PRT KIND STATUS\n{row}\n")
    assert (trunks, bad) == ([], [(2, row)])


def test_an_unknown_panasonic_time_service_is_named() -> None:
    mode, bad = panasonic.parse_mode("TIME SERVICE : TEA\nSWITCHING : AUTO\n")
    assert mode is None
    assert bad == [(0, "unknown time service 'TEA'")]


def test_a_toshiba_station_number_of_thousands_of_digits_is_a_bad_line() -> None:
    row = "2" * 5000 + " 010101 DKT Reception    IDLE"
    stations, bad = toshiba.parse_stations(f"PDN EQUIP TYPE NAME STATUS\n{row}\n")
    assert (stations, bad) == ([], [(2, row)])


# --- the drivers ----------------------------------------------------------------------------


def test_toshiba_pbx_date_of_month_13_is_a_parse_error() -> None:
    toshiba_driver = driver(ToshibaDriver, {"SHOW TIME": "SYSTEM TIME : 13/45/26 MON 10:00:00"})
    with pytest.raises(ParseError, match=r"system time.*13/45/26"):
        toshiba_driver.call_records()


def test_panasonic_read_back_of_a_garbled_clock_is_a_parse_error() -> None:
    panasonic_driver = driver(PanasonicDriver, {"READ 000": "000 = 01/12/26 25:61:00"})
    with pytest.raises(ParseError, match="25:61:00"):
        panasonic_driver.read_setting("clock")
    assert panasonic_driver.console.sent == ["PRG", "READ 000", "END"]  # the lock given back


def test_a_getter_whose_reply_has_a_huge_line_raises_a_bounded_parse_error() -> None:
    garbage = "CO CAB SLT PRT KIND STATUS\n" + "X" * 1_000_000 + "\n"
    panasonic_driver = driver(PanasonicDriver, {"CO": garbage})
    with pytest.raises(ParseError, match="CO line list") as caught:
        panasonic_driver.trunks()
    assert len(str(caught.value)) < 3 * SHOWN_LIMIT
    assert panasonic_driver.console.sent == ["CO", "CO"]  # asked once more, as on noise


def test_the_driver_boundary_turns_an_unforeseen_exception_into_a_parse_error() -> None:
    def parser(text: str) -> tuple[None, list[tuple[int, str]]]:
        return None, [(1, {}["missing"])]

    with pytest.raises(ParseError, match="card list") as caught:
        PanasonicDriver.parse(parser, "CARD garbage", "card list")
    assert caught.value.bad_lines == [(1, "CARD garbage")]
    assert any("KeyError" in note for note in caught.value.__notes__)


def test_reading_lets_the_projects_own_errors_through() -> None:
    with pytest.raises(ParseError, match="mine"), reading("anything", "raw"):
        raise ParseError("mine", [])


# --- the helpers ----------------------------------------------------------------------------


def test_number_is_bounded_before_int() -> None:
    assert number("042", "CO number", digits=4) == 42
    for bad in ("", "12345", "١", "1e3", "9" * 5000):
        with pytest.raises(ParseError):
            number(bad, "CO number", digits=4)


def test_shown_says_how_long_the_text_was() -> None:
    assert shown("short") == "short"
    assert shown("x" * 1000).endswith("(1000 characters)")
    assert len(shown("x" * 1000)) < SHOWN_LIMIT + 30
