"""Vendor-neutral settings mapped to Panasonic programs (docs/dialects/panasonic.md).

Pure functions: which program and arguments address a setting, and how values are
written in the PBX's notation. Keeping them apart from the console lets every mapping be
tested without a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from agent.line.errors import InputError, ParseError
from drivers.base import checked_setting

_PROGRAM = {
    "clock": "000",
    "extension_name": "004",
    "extension_pin": "005",
    "time_service_mode": "101",
    "time_service_switching": "101",
    "trunk_state": "410",
    "extension_forward": "711",
}
_MODES = ("DAY", "NIGHT", "LUNCH", "BREAK", "HOLIDAY")
_SWITCHING = ("AUTO", "MANUAL")
_TRUNK = {"in_service": "INS", "busied_out": "OUS"}
_NAME = re.compile(r'^[^"\r\n]{0,16}$')
_DIGITS = re.compile(r"^\d{1,24}$")
_PIN = re.compile(r"^\d{4,10}$")
_EXTENSION = re.compile(r"^\d{2,5}$")
_CLOCK_FORMAT = "%d/%m/%y %H:%M:%S"


def address(key: str, target: str | None) -> str:
    """``nnn args`` for a setting, e.g. ``004 201`` or ``410 01`` or ``101``."""
    spec = checked_setting(key, target, _PROGRAM)
    program = _PROGRAM[key]
    if spec.target is None or target is None:
        return program
    return f"{program} {_target(spec.target, target)}"


def _target(kind: str, target: str) -> str:
    if kind == "trunk":
        if not target.isdigit() or not 1 <= int(target) <= 99:
            raise InputError(f"CO line number must be 1–99, got {target!r}")
        return f"{int(target):02d}"
    if not _EXTENSION.match(target):
        raise InputError(f"extension number must be 2–5 digits, got {target!r}")
    return target


def parse_reply(reply: str, addressed: str) -> str:
    """The value from ``nnn args = value`` (checking it answers what was asked)."""
    for line in reply.splitlines():
        head, sep, value = line.partition(" = ")
        if sep and head.split() == addressed.split():
            return value.strip()
    raise ParseError(f"reply to READ {addressed}", [(1, reply.strip()[:80])])


def from_pbx(key: str, raw: str) -> str:
    """A program value in the vendor-neutral notation of ``SETTINGS``."""
    if key == "extension_name":
        return raw.strip('"')
    if key in ("time_service_mode", "time_service_switching"):
        mode, switching = _split_mode(raw)
        return mode.lower() if key == "time_service_mode" else switching.lower()
    if key == "clock":
        return datetime.strptime(raw, _CLOCK_FORMAT).isoformat()
    if key == "trunk_state":
        return {"INS": "in_service", "OUS": "busied_out"}[raw]
    if key == "extension_forward":
        return "none" if raw == "NONE" else raw
    raise InputError(f"setting {key!r} cannot be read back")


def to_pbx(key: str, value: str, *, current: Callable[[], str]) -> str:
    """A vendor-neutral value in the program's notation; invalid values are bad input.

    ``current`` reads the program's present value, for programs that hold two settings
    (time service mode and switching share program 101).
    """
    writer = _WRITERS.get(key)
    if writer is None:
        raise InputError(f"unknown setting {key!r}")
    return writer(str(value).strip(), current)


def _write_mode(value: str, current: Callable[[], str]) -> str:
    _mode, switching = _split_mode(current())
    return f"{_choice(value.upper(), _MODES, 'time_service_mode')} {switching}"


def _write_switching(value: str, current: Callable[[], str]) -> str:
    mode, _switching = _split_mode(current())
    return f"{mode} {_choice(value.upper(), _SWITCHING, 'time_service_switching')}"


def _write_forward(value: str, _current: Callable[[], str]) -> str:
    if value.lower() == "none":
        return "NONE"
    return _checked(value, _DIGITS, "'none' or a destination of up to 24 digits")


_WRITERS: dict[str, Callable[[str, Callable[[], str]], str]] = {
    "extension_name": lambda v, _c: _checked(
        v, _NAME, "an extension name of at most 16 characters without '\"'", quote=True),
    "extension_pin": lambda v, _c: _checked(v, _PIN, "a PIN of 4–10 digits"),
    "time_service_mode": _write_mode,
    "time_service_switching": _write_switching,
    "clock": lambda v, _c: _clock(v),
    "trunk_state": lambda v, _c: _TRUNK[_choice(v.lower(), tuple(_TRUNK), "trunk_state")],
    "extension_forward": _write_forward,
}


def _split_mode(raw: str) -> tuple[str, str]:
    parts = raw.split()
    if len(parts) != 2 or parts[0] not in _MODES or parts[1] not in _SWITCHING:
        raise ParseError("time service program 101", [(1, raw)])
    return parts[0], parts[1]


def _checked(value: str, pattern: re.Pattern[str], what: str, *, quote: bool = False) -> str:
    if not pattern.match(value):
        raise InputError(f"expected {what}")
    return f'"{value}"' if quote else value


def _choice(value: str, allowed: tuple[str, ...], key: str) -> str:
    if value not in allowed:
        raise InputError(f"{key} must be one of {', '.join(a.lower() for a in allowed)}")
    return value


def _clock(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"clock must be an ISO date and time, got {value!r}") from None
    return moment.strftime(_CLOCK_FORMAT)


def normalise_backup(dump: str) -> str:
    """One ``nnn args = value`` line per setting, sorted: stable text that diffs well."""
    lines = sorted({line.strip() for line in dump.splitlines() if " = " in line})
    return "\n".join(lines) + "\n" if lines else ""
