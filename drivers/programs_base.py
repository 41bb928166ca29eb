"""Vendor-neutral settings to a PBX's programs: the logic once, each vendor's words as data.

Both consoles address a setting as ``program [target]``, answer a read with one
``program [target] <separator> value`` line, dump their programming as such lines, and
write the same seven settings in their own notation. Only the words differ (program
numbers, the separator, mode and trunk-state names, the clock format, how a target is
written), so a vendor's ``programs`` module states a ``ProgramMap`` and exposes its
methods. Pure functions: every mapping can be tested without a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from agent.line.errors import InputError, ParseError
from drivers.base import checked_setting
from drivers.replies import moment, shown, unexpected, word

#: Reads a program's present value (for programs that hold two settings).
Current = Callable[[], str]

_NAME = re.compile(r'^[^"\r\n]{0,16}$')
_PIN = re.compile(r"^[0-9]{4,10}$")
_DIGITS = re.compile(r"^[0-9]{1,24}$")
_EXTENSION = re.compile(r"^[0-9]{2,5}$")
_SWITCHING = ("AUTO", "MANUAL")
#: What a name or a forwarding destination read from the PBX may be: printable and short
#: (the PBX may hold more than we write, but not a screenful of noise).
_READ_NAME = re.compile(r"^[\x20-\x7e]{0,32}$")
_READ_FORWARD = re.compile(r"^[0-9*#]{1,32}$")


def checked(value: str, pattern: re.Pattern[str], what: str, *, quote: bool = False) -> str:
    """``value`` when it fits ``pattern`` (quoted for free text), else bad input."""
    if not pattern.fullmatch(value):  # fullmatch: ``$`` alone lets a final newline in
        raise InputError(f"expected {what}")
    return f'"{value}"' if quote else value


@dataclass(frozen=True, slots=True)
class ProgramMap:
    """One vendor's program numbers and notation; its methods are the vendor's mapping."""

    #: Setting key to program number.
    programs: Mapping[str, str]
    #: Between ``program [target]`` and the value, in replies and dumps (`` = ``, `` : ``).
    separator: str
    #: The read command's verb, for naming an unreadable reply.
    read_verb: str
    #: ``strftime`` format of the clock program.
    clock_format: str
    #: Time service modes, vendor-neutral name to the PBX's word, in the order listed.
    modes: Mapping[str, str]
    #: What the program holding mode and switching is called in a ``ParseError``.
    mode_program: str
    #: Trunk states, vendor-neutral name to the PBX's word.
    trunk_states: Mapping[str, str]
    #: A trunk target: what it is called, and the highest number (its digits set the width).
    trunk_word: str
    trunk_max: int
    #: An extension target: what it is called.
    extension_word: str
    #: How a valid extension name is described when one is refused.
    name_rule: str
    _from_mode: dict[str, str] = field(init=False, repr=False)
    _from_trunk_state: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_from_mode", {v: k for k, v in self.modes.items()})
        object.__setattr__(self, "_from_trunk_state",
                           {v: k for k, v in self.trunk_states.items()})

    # --- addressing and replies ---------------------------------------------------------

    def address(self, key: str, target: str | None) -> str:
        """``nnn [target]`` for a setting, the target in the vendor's notation."""
        spec = checked_setting(key, target, self.programs)
        program = self.programs[key]
        if spec.target is None or target is None:
            return program
        if spec.target == "trunk":
            if not (target.isascii() and target.isdigit() and len(target) <= 6
                    and 1 <= int(target) <= self.trunk_max):
                raise InputError(f"{self.trunk_word} must be 1–{self.trunk_max}, "
                                 f"got {target!r}")
            return f"{program} {int(target):0{len(str(self.trunk_max))}d}"
        if not _EXTENSION.fullmatch(target):
            raise InputError(f"{self.extension_word} must be 2–5 digits, got {target!r}")
        return f"{program} {target}"

    def parse_reply(self, reply: str, addressed: str) -> str:
        """The value from ``nnn [args] <separator> value``, checking it answers what was
        asked (a reply for another program or target is not an answer)."""
        for line in reply.splitlines():
            head, sep, value = line.partition(self.separator)
            if sep and head.split() == addressed.split():
                return value.strip()
        raise ParseError(f"reply to {self.read_verb} {addressed}", [(1, shown(reply))])

    def normalise_backup(self, dump: str) -> str:
        """One ``nnn [args] <separator> value`` line per setting, sorted: stable text that
        diffs well."""
        lines = sorted({line.strip() for line in dump.splitlines() if self.separator in line})
        return "\n".join(lines) + "\n" if lines else ""

    # --- values -------------------------------------------------------------------------

    def from_pbx(self, key: str, raw: str) -> str:
        """A program value in the vendor-neutral notation of ``SETTINGS``.

        The value came from the PBX: anything that is not a value of the setting (a clock
        of ``25:61:00``, a trunk state ``IN5``) is a ``ParseError`` with the raw text."""
        what = f"{self.read_verb} {self.programs.get(key, key)} ({key})"
        if key == "extension_name":
            name = raw.strip().removeprefix('"').removesuffix('"')
            if not _READ_NAME.fullmatch(name):
                raise unexpected(what, raw)
            return name
        if key in ("time_service_mode", "time_service_switching"):
            mode, switching = self._split_mode(raw)
            return self._from_mode[mode] if key == "time_service_mode" else switching.lower()
        if key == "clock":
            return moment(raw, self.clock_format, what).isoformat()
        if key == "trunk_state":
            return word(raw, self._from_trunk_state, what)
        if key == "extension_forward":
            value = raw.strip()
            if value == "NONE":
                return "none"
            if not _READ_FORWARD.fullmatch(value):
                raise unexpected(what, raw)
            return value
        raise InputError(f"setting {key!r} cannot be read back")

    def to_pbx(self, key: str, value: str, *, current: Current) -> str:
        """A vendor-neutral value in the program's notation; invalid values are bad input.

        ``current`` reads the program's present value, for programs that hold two
        settings (time service mode and switching share one program).
        """
        writers: dict[str, Callable[[str, Current], str]] = {
            "extension_name": lambda v, _c: checked(v, _NAME, self.name_rule, quote=True),
            "extension_pin": lambda v, _c: checked(v, _PIN, "a PIN of 4–10 digits"),
            "time_service_mode": self._write_mode,
            "time_service_switching": self._write_switching,
            "clock": lambda v, _c: self._clock(v),
            "trunk_state": lambda v, _c: self.trunk_states[
                _choice(v.lower(), tuple(self.trunk_states), "trunk_state")],
            "extension_forward": _write_forward,
        }
        writer = writers.get(key)
        if writer is None:
            raise InputError(f"unknown setting {key!r}")
        return writer(str(value).strip(), current)

    def _write_mode(self, value: str, current: Current) -> str:
        mode = _choice(value.lower(), tuple(self.modes), "time_service_mode")
        _mode, switching = self._split_mode(current())
        return f"{self.modes[mode]} {switching}"

    def _write_switching(self, value: str, current: Current) -> str:
        switching = _choice(value.upper(), _SWITCHING, "time_service_switching")
        mode, _switching = self._split_mode(current())
        return f"{mode} {switching}"

    def _split_mode(self, raw: str) -> tuple[str, str]:
        parts = raw.split()
        if len(parts) != 2 or parts[0] not in self._from_mode or parts[1] not in _SWITCHING:
            raise ParseError(self.mode_program, [(1, shown(raw))])
        return parts[0], parts[1]

    def _clock(self, value: str) -> str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(f"clock must be an ISO date and time, got {value!r}") from None
        return moment.strftime(self.clock_format)


def _write_forward(value: str, _current: Current) -> str:
    if value.lower() == "none":
        return "NONE"
    return checked(value, _DIGITS, "'none' or a destination of up to 24 digits")


def _choice(value: str, allowed: tuple[str, ...], key: str) -> str:
    if value not in allowed:
        raise InputError(f"{key} must be one of {', '.join(a.lower() for a in allowed)}")
    return value
