"""Panasonic system programs reachable from the console (docs/dialects/panasonic.md).

Each program maps ``READ``/``WRITE`` onto the shared state, so a change made here shows
at once in ``MODE``, ``CO``, ``EXT`` and on every other session. A bad value raises
``ProgramError`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from simulators.programming import PIN_MASK, ProgramError, quote, refusable, unquote
from simulators.records import Mode, StateError
from simulators.state import PbxState

SWITCHING = {"AUTO": True, "MANUAL": False}


@dataclass(frozen=True, slots=True)
class Program:
    """One program: how many args, how to list them, read and write its value."""

    number: str
    args: int
    keys: Callable[[PbxState], list[tuple[str, ...]]]
    read: Callable[[PbxState, tuple[str, ...]], str]
    write: Callable[[PbxState, tuple[str, ...], str], None]


# --- arguments ----------------------------------------------------------------------------


def _no_keys(pbx: PbxState) -> list[tuple[str, ...]]:
    return [()]


def _extension_keys(pbx: PbxState) -> list[tuple[str, ...]]:
    return [(e.number,) for e in pbx.extensions()]


def _co_keys(pbx: PbxState) -> list[tuple[str, ...]]:
    return [(f"{x.number:02d}",) for x in pbx.co_lines()]


def _extension(pbx: PbxState, args: tuple[str, ...]) -> str:
    try:
        return pbx.extension(args[0]).number
    except StateError:
        raise ProgramError(f"no extension {args[0]}") from None


def _co(pbx: PbxState, args: tuple[str, ...]) -> int:
    text = args[0]
    if not (text.isdigit() and len(text) <= 3):
        raise ProgramError(f"bad CO number {text!r}")
    try:
        return pbx.co_line(int(text)).number
    except StateError:
        raise ProgramError(f"no CO line {text}") from None


def normalise_args(pbx: PbxState, program: Program, args: tuple[str, ...]) -> tuple[str, ...]:
    """The args as the PBX prints them (``410 1`` reads back as ``410 01``)."""
    if len(args) != program.args:
        raise ProgramError(f"program {program.number} takes {program.args} argument(s)")
    if program.number == "410":
        return (f"{_co(pbx, args):02d}",)
    if program.args:
        return (_extension(pbx, args),)
    return ()


# --- values -------------------------------------------------------------------------------


def _read_clock(pbx: PbxState, args: tuple[str, ...]) -> str:
    return f"{pbx.now():%d/%m/%y %H:%M:%S}"


def _write_clock(pbx: PbxState, args: tuple[str, ...], value: str) -> None:
    try:
        when = datetime.strptime(value, "%d/%m/%y %H:%M:%S")
    except ValueError:
        raise ProgramError("the date and time is DD/MM/YY HH:MM:SS") from None
    pbx.program_clock(when)


def _read_name(pbx: PbxState, args: tuple[str, ...]) -> str:
    return quote(pbx.extension(args[0]).name)


def _write_name(pbx: PbxState, args: tuple[str, ...], value: str) -> None:
    name = unquote(value)
    refusable(lambda: pbx.set_extension(args[0], name=name))


def _read_pin(pbx: PbxState, args: tuple[str, ...]) -> str:
    return PIN_MASK


def _write_pin(pbx: PbxState, args: tuple[str, ...], value: str) -> None:
    refusable(lambda: pbx.set_extension(args[0], pin=value))


def _read_time_service(pbx: PbxState, args: tuple[str, ...]) -> str:
    service = pbx.time_service
    return f"{service.mode} {'AUTO' if service.automatic else 'MANUAL'}"


def _write_time_service(pbx: PbxState, args: tuple[str, ...], value: str) -> None:
    words = value.upper().split()
    if len(words) != 2 or words[0] not in Mode.__members__ or words[1] not in SWITCHING:
        raise ProgramError("time service is MODE AUTO|MANUAL")
    pbx.set_time_service(Mode(words[0]), automatic=SWITCHING[words[1]])


def _read_co_service(pbx: PbxState, args: tuple[str, ...]) -> str:
    line = pbx.co_line(int(args[0]))
    return "OUS" if line.busied_out or line.auto_busied else "INS"


def _write_co_service(pbx: PbxState, args: tuple[str, ...], value: str) -> None:
    word = value.upper()
    if word not in ("INS", "OUS"):
        raise ProgramError("a CO line is INS or OUS")
    pbx.set_co_in_service(int(args[0]), word == "INS")


def _read_forward(pbx: PbxState, args: tuple[str, ...]) -> str:
    return pbx.extension(args[0]).forward_to or "NONE"


def _write_forward(pbx: PbxState, args: tuple[str, ...], value: str) -> None:
    destination = "" if value.upper() == "NONE" else value
    if not destination:
        pbx.set_extension(args[0], forward_to="")
        return
    refusable(lambda: pbx.set_extension(args[0], forward_to=destination))


PROGRAMS: dict[str, Program] = {p.number: p for p in (
    Program("000", 0, _no_keys, _read_clock, _write_clock),
    Program("004", 1, _extension_keys, _read_name, _write_name),
    Program("005", 1, _extension_keys, _read_pin, _write_pin),
    Program("101", 0, _no_keys, _read_time_service, _write_time_service),
    Program("410", 1, _co_keys, _read_co_service, _write_co_service),
    Program("711", 1, _extension_keys, _read_forward, _write_forward),
)}


def program(number: str) -> Program:
    try:
        return PROGRAMS[number]
    except KeyError:
        raise ProgramError(f"no program {number!r}") from None


def setting_line(number: str, args: tuple[str, ...], value: str) -> str:
    """``nnn args = value`` — no args: ``nnn = value``."""
    return " ".join((number, *args)) + " = " + value


def read(pbx: PbxState, number: str, args: tuple[str, ...]) -> str:
    prog = program(number)
    args = normalise_args(pbx, prog, args)
    return setting_line(number, args, prog.read(pbx, args))


def write(pbx: PbxState, number: str, args: tuple[str, ...], value: str) -> None:
    prog = program(number)
    args = normalise_args(pbx, prog, args)
    if not value:
        raise ProgramError("no value")
    pbx.program_write(lambda text: prog.write(pbx, args, text), value)


def dump(pbx: PbxState) -> list[str]:
    """Every programmed value, sorted by program then args (as listed)."""
    with pbx.batch():
        return [setting_line(number, key, prog.read(pbx, key))
                for number, prog in sorted(PROGRAMS.items()) for key in prog.keys(pbx)]
