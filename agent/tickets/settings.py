"""Notification settings, from the inventory's ``notifications:`` section (docs/tickets.md).

The section has one sub-section per channel (parsed by that channel's module in
``agent/tickets/channels/``) and the settings every channel shares: the retry policy and
who is told about a contract's faults and escalations. Secrets stay references
(``SecretRef``) until a flush resolves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from agent.errors import InventoryError
from agent.inventory import Inventory
from agent.tickets import channels
from agent.tickets.channels import ChannelSettings

LEVELS: Final = ("account_manager", "technical_director")
_MIN_LEASE: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 10

    def delay(self, attempts: int) -> timedelta:
        """Back-off after the ``attempts``-th failure: 1, 2, 4 … minutes, capped."""
        growth: int = 2 ** max(0, attempts - 1)
        return min(self.max_delay, self.first_delay * growth)


@dataclass(frozen=True, slots=True)
class Recipients:
    to: tuple[str, ...] = ()
    escalate_to: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    #: The configured channels' parsed sections, by channel name.
    channels: Mapping[str, ChannelSettings] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    escalate_to: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    contracts: Mapping[str, Recipients] = field(default_factory=dict)

    def recipients(self, contract: str, level: str | None, *,
                   default: tuple[str, ...]) -> tuple[str, ...]:
        """The contract's list (else ``default``), plus the escalation level's people."""
        override = self.contracts.get(contract, Recipients())
        base = override.to or default
        extra: tuple[str, ...] = ()
        if level is not None:
            extra = override.escalate_to.get(level) or self.escalate_to.get(level, ())
        return tuple(dict.fromkeys((*base, *extra)))

    @property
    def lease(self) -> timedelta:
        """Long enough that a live flusher never loses its claim mid-send."""
        timeouts = [s.timeout for s in self.channels.values()]
        return max(_MIN_LEASE, timedelta(seconds=4 * max(timeouts, default=0)))


def settings_from_inventory(inventory: Inventory) -> NotificationSettings:
    """The typed settings; an inventory without a notifications: section is an error."""
    if not inventory.notifications:
        raise InventoryError("no notifications: section (where should mail and webhooks go?)",
                             path=str(inventory.path))
    return parse_settings(inventory.notifications, inventory.path.parent)


def parse_settings(raw: Mapping[str, Any], base: Path) -> NotificationSettings:
    """From the schema-validated mapping; relative file paths are against ``base``."""
    retry = raw.get("retry", {})
    return NotificationSettings(
        channels={name: channel.parse(raw[name], base)
                  for name, channel in channels.discover().items() if name in raw},
        retry=RetryPolicy(
            first_delay=timedelta(minutes=retry.get("first_delay_minutes", 1)),
            max_delay=timedelta(minutes=retry.get("max_delay_minutes", 60)),
            max_attempts=int(retry.get("max_attempts", 10))),
        escalate_to=_levels(raw.get("escalate_to", {})),
        contracts={name: Recipients(to=tuple(c.get("to", ())),
                                    escalate_to=_levels(c.get("escalate_to", {})))
                   for name, c in raw.get("contracts", {}).items()},
    )


def relative(base: Path, value: str | None) -> Path | None:
    """A path from the inventory: ``~`` expanded, relative ones against its folder."""
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _levels(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {level: tuple(raw[level]) for level in LEVELS if level in raw}
