"""What both simulated consoles' system programs share: the refusal, free-text values, and
state changes that may be refused.

The two vendors number and word their programs differently (``simulators/<vendor>/
programs.py``), but a refused value, a quoted name and a change the state rejects mean
the same on both, and each console turns ``ProgramError`` into its own error reply.
"""

from __future__ import annotations

from collections.abc import Callable

from simulators.records import StateError

#: How a write-only value (a PIN) reads back.
PIN_MASK = "****"


class ProgramError(ValueError):
    """A program, argument or value the PBX refuses (``ERROR 02`` / ``?ERR 02``)."""


def quote(text: str) -> str:
    return f'"{text}"'


def unquote(value: str) -> str:
    """A free-text value: ``"quoted"`` (may hold spaces) or one bare word."""
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"') or '"' in value[1:-1]:
            raise ProgramError("bad quoting")
        return value[1:-1]
    if '"' in value:
        raise ProgramError("bad quoting")
    return value


def refusable(change: Callable[[], None]) -> None:
    """Make a state change; one the state refuses is the program refusing the value."""
    try:
        change()
    except StateError as exc:
        raise ProgramError(str(exc)) from None
