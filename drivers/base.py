"""The driver contract: one class per vendor family, read-only getters plus settings.

A driver owns the vendor's dialect and nothing else: it receives an open ``Console``
and never knows about playbooks, tickets or which line carries the bytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from drivers.model import Alarm, Card, Extension, OperatingMode, SystemInfo, Trunk

if TYPE_CHECKING:
    from agent.console import Console, ConsoleDialect
    from agent.transports.base import Credentials

GETTERS: tuple[str, ...] = (
    "system_info",
    "alarms",
    "error_log",
    "cards",
    "trunks",
    "extensions",
    "operating_mode",
)


class Driver(ABC):
    """Base of every vendor driver."""

    vendor: ClassVar[str]
    #: What the console must know before the first command (prompt, pager, codec).
    dialect: ClassVar[ConsoleDialect]

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
    def error_log(self) -> list[Alarm]: ...

    @abstractmethod
    def cards(self) -> list[Card]: ...

    @abstractmethod
    def trunks(self) -> list[Trunk]: ...

    @abstractmethod
    def extensions(self) -> list[Extension]: ...

    @abstractmethod
    def operating_mode(self) -> OperatingMode: ...

    def get(self, getter: str) -> Any:
        """Call a getter by its contract name (what playbooks name in ``get:``)."""
        if getter not in GETTERS:
            raise KeyError(getter)
        return getattr(self, getter)()
