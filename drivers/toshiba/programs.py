"""Vendor-neutral settings mapped to Toshiba Strata programs (docs/dialects/toshiba.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from agent.line.errors import InputError, ParseError
from drivers.base import checked_setting

_PROGRAM = {
    "clock": "102",
    "time_service_mode": "106",
    "time_service_switching": "106",
    "extension_name": "200",
    "extension_pin": "201",
    "extension_forward": "210",
    "trunk_state": "300",
}
_TO_MODE = {"day": "DAY", "lunch": "DAY2", "break": "DAY3", "night": "NIGHT",
            "holiday": "HOLIDAY"}
_FROM_MODE = {v: k for k, v in _TO_MODE.items()}
_CONTROL = ("AUTO", "MANUAL")
_TRUNK = {"in_service": "IN-SVC", "busied_out": "OUT-SVC"}
_NAME = re.compile(r'^[^"\r\n]{0,16}$')
_PIN = re.compile(r"^\d{4,10}$")
_DIGITS = re.compile(r"^\d{1,24}$")
_PDN = re.compile(r"^\d{2,5}$")
_CLOCK_FORMAT = "%m/%d/%y %H:%M:%S"


def address(key: str, target: str | None) -> str:
    """``nnn args`` for a setting, e.g. ``200 2001`` or ``300 001`` or ``106``."""
    spec = checked_setting(key, target, _PROGRAM)
    program = _PROGRAM[key]
    if spec.target is None or target is None:
        return program
    if spec.target == "trunk":
        if not target.isdigit() or not 1 <= int(target) <= 999:
            raise InputError(f"trunk number must be 1–999, got {target!r}")
        return f"{program} {int(target):03d}"
    if not _PDN.match(target):
        raise InputError(f"station PDN must be 2–5 digits, got {target!r}")
    return f"{program} {target}"


def parse_reply(reply: str, addressed: str) -> str:
    """The value from ``nnn [args] : value``, checking it answers what was asked."""
    for line in reply.splitlines():
        head, sep, value = line.partition(" : ")
        if sep and head.split() == addressed.split():
            return value.strip()
    raise ParseError(f"reply to GET {addressed}", [(1, reply.strip()[:80])])


def from_pbx(key: str, raw: str) -> str:
    if key == "extension_name":
        return raw.strip('"')
    if key in ("time_service_mode", "time_service_switching"):
        mode, control = _split_mode(raw)
        return _FROM_MODE[mode] if key == "time_service_mode" else control.lower()
    if key == "clock":
        return datetime.strptime(raw, _CLOCK_FORMAT).isoformat()
    if key == "trunk_state":
        return {"IN-SVC": "in_service", "OUT-SVC": "busied_out"}[raw]
    if key == "extension_forward":
        return "none" if raw == "NONE" else raw
    raise InputError(f"setting {key!r} cannot be read back")


def to_pbx(key: str, value: str, *, current: Callable[[], str]) -> str:
    writer = _WRITERS.get(key)
    if writer is None:
        raise InputError(f"unknown setting {key!r}")
    return writer(str(value).strip(), current)


def _split_mode(raw: str) -> tuple[str, str]:
    parts = raw.split()
    if len(parts) != 2 or parts[0] not in _FROM_MODE or parts[1] not in _CONTROL:
        raise ParseError("day/night program 106", [(1, raw)])
    return parts[0], parts[1]


def _checked(value: str, pattern: re.Pattern[str], what: str, *, quote: bool = False) -> str:
    if not pattern.match(value):
        raise InputError(f"expected {what}")
    return f'"{value}"' if quote else value


def _write_mode(value: str, current: Callable[[], str]) -> str:
    if value.lower() not in _TO_MODE:
        raise InputError(f"time_service_mode must be one of {', '.join(_TO_MODE)}")
    _mode, control = _split_mode(current())
    return f"{_TO_MODE[value.lower()]} {control}"


def _write_control(value: str, current: Callable[[], str]) -> str:
    if value.upper() not in _CONTROL:
        raise InputError("time_service_switching must be one of auto, manual")
    mode, _control = _split_mode(current())
    return f"{mode} {value.upper()}"


def _write_clock(value: str, _current: Callable[[], str]) -> str:
    try:
        return datetime.fromisoformat(value).strftime(_CLOCK_FORMAT)
    except ValueError:
        raise InputError(f"clock must be an ISO date and time, got {value!r}") from None


def _write_trunk(value: str, _current: Callable[[], str]) -> str:
    if value.lower() not in _TRUNK:
        raise InputError("trunk_state must be one of in_service, busied_out")
    return _TRUNK[value.lower()]


def _write_forward(value: str, _current: Callable[[], str]) -> str:
    if value.lower() == "none":
        return "NONE"
    return _checked(value, _DIGITS, "'none' or a destination of up to 24 digits")


_WRITERS: dict[str, Callable[[str, Callable[[], str]], str]] = {
    "extension_name": lambda v, _c: _checked(
        v, _NAME, "a station name of at most 16 characters, no double quote", quote=True),
    "extension_pin": lambda v, _c: _checked(v, _PIN, "a PIN of 4–10 digits"),
    "time_service_mode": _write_mode,
    "time_service_switching": _write_control,
    "clock": _write_clock,
    "trunk_state": _write_trunk,
    "extension_forward": _write_forward,
}


def normalise_backup(listing: str) -> str:
    """``LIST`` output as sorted ``nnn [args] : value`` lines: stable, diffable text."""
    lines = sorted({line.strip() for line in listing.splitlines() if " : " in line})
    return "\n".join(lines) + "\n" if lines else ""
