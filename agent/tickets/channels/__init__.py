"""Notification channels: one module per channel, found by scanning this package.

A channel module defines ``CHANNEL``, an object with the ``Channel`` protocol below. Its
``name`` is both the outbox's channel column and the key of its section under the
inventory's ``notifications:``; it parses that section and opens a ``Sender`` for a
flush. Every notification is queued once per channel found here (a channel that is not
configured marks its rows ``skipped`` at flush time), so adding a channel is dropping one
module into this folder: nothing else names it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agent.tickets.model import OutboxMessage

if TYPE_CHECKING:
    from agent.tickets.settings import NotificationSettings


class DeliveryFailed(Exception):
    """One attempt failed; the text is already scrubbed of secrets."""


class ChannelSettings(Protocol):
    """What the flush needs of every channel's parsed section."""

    @property
    def timeout(self) -> float:
        """Seconds one attempt may take: the lease is sized from the longest."""
        ...


class Sender(Protocol):
    """One flush's delivery on a channel: secrets read, a session reused, closed after."""

    def send(self, message: OutboxMessage) -> None:
        """Deliver one message, or raise ``DeliveryFailed``."""

    def close(self) -> None: ...


class Channel(Protocol):
    """A way to tell the helpdesk: parsed from its section, opened once per flush."""

    @property
    def name(self) -> str: ...

    def parse(self, raw: Mapping[str, Any], base: Path) -> ChannelSettings:
        """Its (schema-validated) section; relative file paths are against ``base``."""
        ...

    def open(self, notifications: NotificationSettings) -> Sender:
        """Resolve its secrets now (an error here stops the flush before any send)."""
        ...


def discover() -> dict[str, Channel]:
    """Every channel module in this package, by channel name, in name order."""
    found: dict[str, Channel] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        channel: Channel | None = getattr(importlib.import_module(f"{__name__}.{module.name}"),
                                          "CHANNEL", None)
        if channel is not None:
            found[channel.name] = channel
    return dict(sorted(found.items()))


def names() -> tuple[str, ...]:
    """The channels a notification is queued for."""
    return tuple(discover())
