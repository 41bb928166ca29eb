"""The driver contract: one class per vendor family, read-only getters plus settings.

A driver owns the vendor's dialect and nothing else: it receives an open ``Console``
and never knows about playbooks, tickets or which line carries the bytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from agent.line.errors import InputError
from drivers.model import (
    Alarm,
    CallRecord,
    Card,
    Extension,
    OperatingMode,
    SystemInfo,
    Trunk,
)

if TYPE_CHECKING:
    from agent.line.console import Console, ConsoleDialect
    from agent.line.transports.base import Credentials

@dataclass(frozen=True, slots=True)
class SettingSpec:
    """A vendor-neutral programmable setting; drivers map each to their own program."""

    key: str
    description: str
    target: str | None = None  # what the setting is addressed by ("extension", "trunk")
    write_only: bool = False  # never read back (a PIN): read_setting returns None
    values: tuple[str, ...] = ()  # the closed set of values, when there is one


SETTINGS: dict[str, SettingSpec] = {spec.key: spec for spec in (
    SettingSpec("extension_name", "name shown for an extension", target="extension"),
    SettingSpec("extension_pin", "an extension's PIN (write-only)", target="extension",
                write_only=True),
    SettingSpec("time_service_mode", "time service mode",
                values=("day", "night", "lunch", "break", "holiday")),
    SettingSpec("time_service_switching", "how time service changes",
                values=("auto", "manual")),
    SettingSpec("clock", "system date and time, ISO 8601 without zone (PBX local time)"),
    SettingSpec("trunk_state", "a CO line in service or busied out", target="trunk",
                values=("in_service", "busied_out")),
    SettingSpec("extension_forward", "call forwarding destination, or 'none'",
                target="extension"),
)}

def checked_setting(key: str, target: str | None, supported: Collection[str]) -> SettingSpec:
    """The spec of a setting a driver supports, with ``target`` given exactly when needed.

    Each vendor then writes the target in its own notation (CO ``01``, trunk ``001``)."""
    spec = SETTINGS.get(key)
    if spec is None or key not in supported:
        raise InputError(f"unknown setting {key!r} (known: {', '.join(sorted(supported))})")
    if spec.target is None and target is not None:
        raise InputError(f"setting {key!r} takes no target")
    if spec.target is not None and target is None:
        raise InputError(f"setting {key!r} needs a {spec.target} number")
    return spec


GETTERS: tuple[str, ...] = (
    "system_info",
    "alarms",
    "error_log",
    "cards",
    "trunks",
    "extensions",
    "operating_mode",
    "call_records",
)
#: Getters that accept ``since`` (a datetime): only what is new crosses a slow line.
SINCE_GETTERS: frozenset[str] = frozenset({"error_log", "call_records"})


class Driver(ABC):
    """Base of every vendor driver."""

    vendor: ClassVar[str]
    #: What the console must know before the first command (prompt, pager, codec).
    dialect: ClassVar[ConsoleDialect]
    #: Card families (the card type without its trailing port count, "DLC16" -> "DLC") by
    #: role: fault classification asks the run's driver which cards are the processor,
    #: extension cards and trunk cards (agent/tickets/cards.py).
    processor_cards: ClassVar[frozenset[str]] = frozenset()
    extension_cards: ClassVar[frozenset[str]] = frozenset()
    trunk_cards: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, console: Console) -> None:
        self.console = console

    @abstractmethod
    def open_session(self, credentials: Credentials) -> None:
        """Log in (where the line does not authenticate itself) and reach a quiet prompt."""

    @abstractmethod
    def close_session(self) -> None:
        """Log out politely; must be safe to call on a half-open session."""

    @abstractmethod
    def system_info(self) -> SystemInfo: ...

    @abstractmethod
    def alarms(self) -> list[Alarm]: ...

    @abstractmethod
    def error_log(self, since: datetime | None = None) -> list[Alarm]: ...

    @abstractmethod
    def cards(self) -> list[Card]: ...

    @abstractmethod
    def trunks(self) -> list[Trunk]: ...

    @abstractmethod
    def extensions(self) -> list[Extension]: ...

    @abstractmethod
    def operating_mode(self) -> OperatingMode: ...

    @abstractmethod
    def call_records(self, since: datetime | None = None) -> list[CallRecord]: ...

    @abstractmethod
    def run_command(self, command: str) -> str:
        """A raw console command (playbook ``command`` steps); error replies raise."""

    # --- programming (issue 5 completes these per vendor) ------------------------------

    def read_setting(self, key: str, target: str | None = None) -> str | None:
        """Current value of a setting in ``SETTINGS`` (None for a write-only one)."""
        raise NotImplementedError(f"{self.vendor} driver cannot read {key!r} yet")

    def write_setting(self, key: str, value: str, target: str | None = None) -> None:
        """Program a setting; a refused or locked write raises and changes nothing."""
        raise NotImplementedError(f"{self.vendor} driver cannot write {key!r} yet")

    def backup(self) -> str:
        """All programming data as stable, diffable text (one setting per line)."""
        raise NotImplementedError(f"{self.vendor} driver cannot back up yet")

    def get(self, getter: str, **params: Any) -> Any:
        """Call a getter by its contract name (what playbooks name in ``get:``)."""
        if getter not in GETTERS:
            raise KeyError(getter)
        if params and (getter not in SINCE_GETTERS or set(params) != {"since"}):
            raise TypeError(f"getter {getter!r} takes no parameters {sorted(params)}")
        return getattr(self, getter)(**params)
