"""Fuzz the reply side of both drivers: parsers, ``from_pbx`` of every setting, the
getters and read-backs through the driver (issue 13 #1 and #3).

The rule under test: a typed result, or one of the project's own errors (``ParseError``
for a reply, ``CommandRejected`` for an error reply) — never ``ValueError``,
``KeyError``, ``IndexError``, ``OverflowError`` or ``RecursionError``. The parsers are
called directly, without the driver's safety net (``drivers.replies.reading``), so a
defect in them shows here instead of being converted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agent.line.errors import CommandRejected, InputError, ParseError
from drivers.base import GETTERS, SETTINGS
from drivers.panasonic import PanasonicDriver
from drivers.panasonic import parsers as panasonic
from drivers.panasonic import programs as panasonic_programs
from drivers.recovery import pair_recoveries
from drivers.toshiba import ToshibaDriver
from drivers.toshiba import parsers as toshiba
from drivers.toshiba import programs as toshiba_programs

from .budget import FUZZ, scaled
from .strategies import noise, reply

PARSERS: dict[str, Callable[[str], tuple[Any, list[tuple[int, str]]]]] = {
    f"{module.__name__.split('.')[1]}.{name}": getattr(module, name)
    for module, names in (
        (panasonic, ("parse_error_log", "parse_alarms", "parse_version", "parse_cards",
                     "parse_trunks", "parse_extensions", "parse_mode")),
        (toshiba, ("parse_version", "parse_alarms", "parse_alarm_history", "parse_pcbs",
                   "parse_trunks", "parse_stations", "parse_mode")),
    )
    for name in names
}
PROGRAM_MAPS = {"panasonic": panasonic_programs, "toshiba": toshiba_programs}
DRIVERS = {"panasonic": PanasonicDriver, "toshiba": ToshibaDriver}


def check_bad_lines(bad: object) -> None:
    assert isinstance(bad, list)
    for number, text in bad:
        assert isinstance(number, int) and isinstance(text, str)


@pytest.mark.parametrize("name", sorted(PARSERS))
@given(text=reply)
@example(text="CO CAB SLT PRT KIND STATUS\r\n" + "9" * 5000 + "  1  03  01  LCOT  INS\r\n")
@example(text="TIME SERVICE : TEA\nSWITCHING : AUTO\n")
@example(text="01/12/26 25:61    MJ ALM #301 01 10103 PRI sync lost\n")
@scaled(30)
def test_parsers_return_items_and_bad_lines(name: str, text: str) -> None:
    items, bad = PARSERS[name](text)
    check_bad_lines(bad)
    if isinstance(items, list) and all(hasattr(item, "first_seen") for item in items):
        pair_recoveries(items)  # what the error-log getters do with the entries


READABLE = sorted(key for key in SETTINGS if not SETTINGS[key].write_only)


@pytest.mark.parametrize("vendor", sorted(PROGRAM_MAPS))
@pytest.mark.parametrize("key", READABLE)
@given(raw=st.one_of(noise, st.sampled_from(
    ["01/12/26 25:61:00", "13/45/26 10:00:00", "IN5", "INS", "OUT-SVC", '"x"', "NONE",
     "DAY2 AUTO", "NIGHT MANUAL", "9" * 5000, "01/12/26 10:00:0"])))
@example(raw="01/12/26 25:61:00")
@example(raw="IN5")
@scaled(25)
def test_from_pbx_returns_the_neutral_value_or_a_parse_error(vendor: str, key: str,
                                                             raw: str) -> None:
    programs = PROGRAM_MAPS[vendor]
    try:
        value = programs.from_pbx(key, raw)
    except ParseError as exc:
        assert len(str(exc)) < 1000  # the raw text is carried, bounded
        return
    assert isinstance(value, str)
    spec = SETTINGS[key]
    if spec.values:
        assert value in spec.values
    if key in ("clock", "trunk_state"):  # what was read can be written, as it was read
        assert programs.to_pbx(key, value, current=lambda: "") == raw.strip()


@pytest.mark.parametrize("vendor", sorted(PROGRAM_MAPS))
@given(text=reply, addressed=st.sampled_from(["000", "410 01", "102", "300 001", "004 201"]))
@FUZZ
def test_reply_and_dump_parsing_never_crash(vendor: str, text: str, addressed: str) -> None:
    programs = PROGRAM_MAPS[vendor]
    with contextlib.suppress(ParseError):
        assert isinstance(programs.parse_reply(text, addressed), str)
    assert isinstance(programs.normalise_backup(text), str)


@pytest.mark.parametrize("target", ["1", "01", "²", "١", "1" * 5000, "-1", "01\n", " 1"])
@pytest.mark.parametrize("vendor", sorted(PROGRAM_MAPS))
def test_addresses_of_strange_targets_are_bad_input_or_fine(vendor: str, target: str) -> None:
    for key in ("trunk_state", "extension_name"):
        try:
            address = PROGRAM_MAPS[vendor].address(key, target)
        except InputError:
            continue
        assert "\n" not in address and address.isascii()


class ScriptedConsole:
    """A console that answers every command with the same fuzzed reply."""

    def __init__(self, text: str) -> None:
        self.text = text

    def command(self, command: str, *_args: Any, **_kwargs: Any) -> str:
        return self.text


@pytest.mark.parametrize("vendor", sorted(DRIVERS))
@given(text=reply, getter=st.sampled_from(GETTERS))
@example(text="SYSTEM TIME : 13/45/26 MON 10:00:00\n", getter="call_records")
@FUZZ
def test_getters_return_the_model_or_a_typed_error(vendor: str, text: str,
                                                   getter: str) -> None:
    driver = DRIVERS[vendor](ScriptedConsole(text))
    with contextlib.suppress(ParseError, CommandRejected):
        driver.get(getter)


@pytest.mark.parametrize("vendor", sorted(DRIVERS))
@given(value=st.one_of(noise, st.sampled_from(["25:61:00", "IN5", "13/45/26 10:00:00"])),
       key=st.sampled_from(READABLE))
@FUZZ
def test_read_backs_return_a_value_or_a_typed_error(vendor: str, value: str, key: str) -> None:
    programs = PROGRAM_MAPS[vendor]
    target = {"extension": "201", "trunk": "1"}.get(SETTINGS[key].target or "")
    address = programs.address(key, target)
    separator = programs.PROGRAMS.separator
    driver = DRIVERS[vendor](ScriptedConsole(f"{address}{separator}{value}\r\n"))
    with contextlib.suppress(ParseError, CommandRejected):
        assert isinstance(driver.read_setting(key, target), str)
