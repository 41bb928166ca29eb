"""Two backups compared setting by setting, the clock left out.

A backup is one ``program [target] <separator> value`` line per setting (the driver's
``backup()``), so the useful diff is per address: "004 201: "Reception" → "Front desk"",
not a line diff where a moved line reads as a removal and an addition. The clock program
changes every second and says nothing: it is left out (the driver names it, through its
programs' address of the vendor-neutral ``clock`` setting).
"""

from __future__ import annotations

import contextlib
import difflib
from dataclasses import dataclass, field
from typing import Any

from agent.errors import InputError
from drivers import driver_class

#: Lines compared per backup (a PBX dump is thousands; a runaway file is cut here).
MAX_LINES = 200_000


@dataclass(frozen=True, slots=True)
class Change:
    address: str
    before: str | None  # None: the setting is new
    after: str | None  # None: the setting is gone

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class BackupDiff:
    changes: tuple[Change, ...] = ()
    #: A unified diff of the compared lines (volatile ones left out), for a terminal.
    unified: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.changes


@dataclass(frozen=True, slots=True)
class BackupFormat:
    """How a vendor's backup lines split, and which programs are volatile."""

    separator: str
    volatile: frozenset[str]

    def split(self, line: str) -> tuple[str, str] | None:
        address, sep, value = line.strip().partition(self.separator)
        if not sep or not address.strip():
            return None
        return " ".join(address.split()), value.strip()

    def settings(self, text: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for number, line in enumerate(text.splitlines()):
            if number >= MAX_LINES:
                break
            parts = self.split(line)
            if parts is not None and parts[0].split()[0] not in self.volatile:
                found[parts[0]] = parts[1]
        return found


def backup_format(vendor: str) -> BackupFormat:
    """The vendor driver's separator and its clock program (never compared)."""
    cls: Any = driver_class(vendor)
    separator = str(getattr(cls, "backup_separator", " = "))
    programs = getattr(cls, "programs", None)
    volatile: set[str] = set()
    if programs is not None:
        with contextlib.suppress(InputError):  # a driver without a clock setting has none
            volatile.add(str(programs.address("clock", None)).split()[0])
    return BackupFormat(separator=separator, volatile=frozenset(volatile))


def diff_backups(old: str, new: str, vendor: str) -> BackupDiff:
    fmt = backup_format(vendor)
    before, after = fmt.settings(old), fmt.settings(new)
    changes = [Change(address, before.get(address), after.get(address))
               for address in sorted(set(before) | set(after), key=_address_key)
               if before.get(address) != after.get(address)]
    old_lines = [f"{a}{fmt.separator}{v}" for a, v in sorted(before.items(),
                                                             key=lambda kv: _address_key(kv[0]))]
    new_lines = [f"{a}{fmt.separator}{v}" for a, v in sorted(after.items(),
                                                             key=lambda kv: _address_key(kv[0]))]
    unified = tuple(difflib.unified_diff(old_lines, new_lines, "before", "after", lineterm="",
                                         n=0))
    return BackupDiff(changes=tuple(changes), unified=unified)


def _address_key(address: str) -> tuple[tuple[int, int | str], ...]:
    """Program then target, numerically where numeric: ``4 9`` before ``4 10``."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in address.split())
