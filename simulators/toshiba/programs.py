"""Toshiba Strata programs reachable from the console (docs/dialects/toshiba.md).

The same shared state as the Panasonic programs, under Toshiba's numbers and words;
settings the simulator does not act on (mode start times, daylight saving, SNMP trap
addresses) are kept as inert programmed values so they still read back what was written.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from simulators.programming import PIN_MASK, ProgramError, refusable, unquote
from simulators.records import StateError
from simulators.state import PbxState
from simulators.toshiba.words import MODE_WORDS, MODES

CONTROL = {"AUTO": True, "MANUAL": False}
TRUNK_SERVICE = ("IN-SVC", "OUT-SVC")
HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
INERT_DEFAULTS: dict[tuple[str, ...], str] = {("112",): "08:00", ("113",): "18:00",
                                              ("121",): "OFF"}
SNMP_SLOTS = 11


class ReadOnly(ProgramError):
    """``PUT`` on a program that can only be read (``?ERR 06``)."""


Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Program:
    number: str
    args: int
    keys: Callable[[PbxState], list[Key]]
    read: Callable[[PbxState, Key], str]
    write: Callable[[PbxState, Key, str], None] | None
    check: Callable[[PbxState, tuple[str, ...]], Key]


# --- arguments ----------------------------------------------------------------------------


def _none(pbx: PbxState) -> list[Key]:
    return [()]


def _no_args(pbx: PbxState, args: tuple[str, ...]) -> Key:
    return ()


def _slots(pbx: PbxState) -> list[Key]:
    return [(f"{c.cabinet:02d}{c.slot:02d}",) for c in pbx.cards()]


def _slot(pbx: PbxState, args: tuple[str, ...]) -> Key:
    text = args[0]
    if not (len(text) == 4 and text.isdigit()):
        raise ProgramError("a slot is xxyy")
    try:
        pbx.card(int(text[2:]), int(text[:2]))
    except StateError:
        raise ProgramError(f"no PCB in {text}") from None
    return (text,)


def _stations(pbx: PbxState) -> list[Key]:
    return [(e.number,) for e in pbx.extensions()]


def _station(pbx: PbxState, args: tuple[str, ...]) -> Key:
    try:
        return (pbx.extension(args[0]).number,)
    except StateError:
        raise ProgramError(f"no station {args[0]}") from None


def _trunks(pbx: PbxState) -> list[Key]:
    return [(f"{x.number:03d}",) for x in pbx.co_lines()]


def _trunk(pbx: PbxState, args: tuple[str, ...]) -> Key:
    text = args[0].upper().removeprefix("T")
    if not (text.isdigit() and len(text) <= 3):
        raise ProgramError(f"bad trunk number {args[0]!r}")
    try:
        return (f"{pbx.co_line(int(text)).number:03d}",)
    except StateError:
        raise ProgramError(f"no trunk {args[0]}") from None


def _snmp_slots(pbx: PbxState) -> list[Key]:
    return [(f"{n:02d}",) for n in range(1, SNMP_SLOTS + 1)]


def _snmp_slot(pbx: PbxState, args: tuple[str, ...]) -> Key:
    text = args[0]
    if not (text.isdigit() and 1 <= int(text) <= SNMP_SLOTS):
        raise ProgramError("SNMP destinations are 01-11")
    return (f"{int(text):02d}",)


# --- values -------------------------------------------------------------------------------


def _read_pcb(pbx: PbxState, key: Key) -> str:
    return pbx.card(int(key[0][2:]), int(key[0][:2])).card_type


def _read_clock(pbx: PbxState, key: Key) -> str:
    return f"{pbx.now():%m/%d/%y %H:%M:%S}"


def _write_clock(pbx: PbxState, key: Key, value: str) -> None:
    try:
        when = datetime.strptime(value, "%m/%d/%y %H:%M:%S")
    except ValueError:
        raise ProgramError("the date and time is MM/DD/YY HH:MM:SS") from None
    pbx.program_clock(when)


def _read_mode(pbx: PbxState, key: Key) -> str:
    service = pbx.time_service
    return f"{MODE_WORDS[service.mode]} {'AUTO' if service.automatic else 'MANUAL'}"


def _write_mode(pbx: PbxState, key: Key, value: str) -> None:
    words = value.upper().split()
    if len(words) != 2 or words[0] not in MODES or words[1] not in CONTROL:
        raise ProgramError("day/night is MODE AUTO|MANUAL")
    pbx.set_time_service(MODES[words[0]], automatic=CONTROL[words[1]])


def _inert(number: str, valid: Callable[[str], bool]) -> tuple[
        Callable[[PbxState, Key], str], Callable[[PbxState, Key, str], None]]:
    """Read/write for a value kept as written (after ``valid`` accepts it)."""
    def read(pbx: PbxState, key: Key) -> str:
        full = (number, *key)
        return pbx.program_value(full, INERT_DEFAULTS.get(full, "NONE"))

    def write(pbx: PbxState, key: Key, value: str) -> None:
        value = value.upper()
        if not valid(value):
            raise ProgramError(f"bad value for program {number}")
        pbx.set_program_value((number, *key), value)
    return read, write


def _is_ipv4_or_none(value: str) -> bool:
    if value == "NONE":
        return True
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _read_name(pbx: PbxState, key: Key) -> str:
    return f'"{pbx.extension(key[0]).name}"'


def _write_name(pbx: PbxState, key: Key, value: str) -> None:
    name = unquote(value)
    refusable(lambda: pbx.set_extension(key[0], name=name))


def _read_pin(pbx: PbxState, key: Key) -> str:
    return PIN_MASK


def _write_pin(pbx: PbxState, key: Key, value: str) -> None:
    refusable(lambda: pbx.set_extension(key[0], pin=value))


def _read_forward(pbx: PbxState, key: Key) -> str:
    return pbx.extension(key[0]).forward_to or "NONE"


def _write_forward(pbx: PbxState, key: Key, value: str) -> None:
    destination = "" if value.upper() == "NONE" else value
    refusable(lambda: pbx.set_extension(key[0], forward_to=destination))


def _read_trunk(pbx: PbxState, key: Key) -> str:
    line = pbx.co_line(int(key[0]))
    return TRUNK_SERVICE[1] if line.busied_out or line.auto_busied else TRUNK_SERVICE[0]


def _write_trunk(pbx: PbxState, key: Key, value: str) -> None:
    word = value.upper()
    if word not in TRUNK_SERVICE:
        raise ProgramError("a trunk is IN-SVC or OUT-SVC")
    pbx.set_co_in_service(int(key[0]), word == TRUNK_SERVICE[0])


def _read_alarm_buffer(pbx: PbxState, key: Key) -> str:
    return str(len(pbx.error_log()))


def _write_alarm_buffer(pbx: PbxState, key: Key, value: str) -> None:
    if value.upper() != "CLEAR":
        raise ProgramError("919 takes CLEAR")
    pbx.clear_history()


def _is_hhmm(value: str) -> bool:
    return HHMM.fullmatch(value) is not None


_112 = _inert("112", _is_hhmm)
_113 = _inert("113", _is_hhmm)
_121 = _inert("121", lambda v: v in ("ON", "OFF"))
_920 = _inert("920", _is_ipv4_or_none)

PROGRAMS: dict[str, Program] = {p.number: p for p in (
    Program("100", 1, _slots, _read_pcb, None, _slot),
    Program("102", 0, _none, _read_clock, _write_clock, _no_args),
    Program("106", 0, _none, _read_mode, _write_mode, _no_args),
    Program("112", 0, _none, *_112, _no_args),
    Program("113", 0, _none, *_113, _no_args),
    Program("121", 0, _none, *_121, _no_args),
    Program("200", 1, _stations, _read_name, _write_name, _station),
    Program("201", 1, _stations, _read_pin, _write_pin, _station),
    Program("210", 1, _stations, _read_forward, _write_forward, _station),
    Program("300", 1, _trunks, _read_trunk, _write_trunk, _trunk),
    Program("919", 0, _none, _read_alarm_buffer, _write_alarm_buffer, _no_args),
    Program("920", 1, _snmp_slots, *_920, _snmp_slot),
)}


def _program(number: str) -> Program:
    try:
        return PROGRAMS[number]
    except KeyError:
        raise ProgramError(f"no program {number!r}") from None


def setting_line(number: str, key: Key, value: str) -> str:
    return " ".join((number, *key)) + " : " + value


def get(pbx: PbxState, words: list[str]) -> str:
    """``GET nnn args``: the one line of that setting."""
    prog = _program(words[0])
    if len(words) - 1 != prog.args:
        raise ProgramError(f"program {prog.number} takes {prog.args} argument(s)")
    key = prog.check(pbx, tuple(words[1:]))
    return setting_line(prog.number, key, prog.read(pbx, key))


def put(pbx: PbxState, text: str) -> None:
    """``PUT nnn args value``: the program's arg count says where the value starts."""
    words = text.split(None, 2)[1:]
    if not words:
        raise ProgramError("no program")
    prog = _program(words[0])
    rest = text.split(None, 2 + prog.args)
    if len(rest) != 3 + prog.args:
        raise ProgramError("no value")
    key = prog.check(pbx, tuple(rest[2:2 + prog.args]))
    if prog.write is None:
        raise ReadOnly(prog.number)
    write = prog.write
    pbx.program_write(lambda text: write(pbx, key, text), rest[-1].strip())


def listing(pbx: PbxState) -> list[str]:
    with pbx.batch():
        return [setting_line(number, key, prog.read(pbx, key))
                for number, prog in sorted(PROGRAMS.items()) for key in prog.keys(pbx)]
