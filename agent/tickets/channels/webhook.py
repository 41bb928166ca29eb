"""The ``webhook`` channel: the payload as JSON, POSTed and signed with HMAC-SHA256.

The delivery id (``X-Pbxdiag-Delivery``) is stable across retries, so a receiver drops a
delivery it has already seen. The URL may carry a token: errors name only scheme and host.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import InventoryError
from agent.line.secrets import REDACTOR, Secret, SecretRef
from agent.tickets.channels import DeliveryFailed
from agent.tickets.model import OutboxMessage
from agent.tickets.render import webhook_body, webhook_headers
from agent.tickets.settings import NotificationSettings, relative


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    url: str
    secret: SecretRef = field(default_factory=lambda: SecretRef("the webhook secret"))
    timeout: float = 10.0

    @property
    def where(self) -> str:
        """The URL without path or query, which may carry a token: safe for errors."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}"


def post_webhook(settings: WebhookSettings, secret: Secret | None,
                 message: OutboxMessage) -> None:
    body = webhook_body(message)
    headers = webhook_headers(message, body, secret.reveal() if secret else None)
    if urllib.parse.urlsplit(settings.url).scheme not in ("http", "https"):
        raise DeliveryFailed(f"webhook {settings.where}: only http(s) URLs are allowed")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        settings.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as reply:  # noqa: S310
            status = int(reply.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"webhook {settings.where}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(REDACTOR.scrub(f"webhook {settings.where}: {reason}")) from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"webhook {settings.where}: HTTP {status}")


@dataclass(frozen=True, slots=True)
class WebhookSender:
    """No session to keep: each message is one POST."""

    settings: WebhookSettings
    secret: Secret | None

    def send(self, message: OutboxMessage) -> None:
        post_webhook(self.settings, self.secret, message)

    def close(self) -> None:
        """Nothing held between messages."""


class WebhookChannel:
    """``notifications: webhook:`` — the URL and the signing secret's reference."""

    name = "webhook"

    def parse(self, raw: Mapping[str, Any], base: Path) -> WebhookSettings:
        return WebhookSettings(
            url=raw["url"],
            secret=SecretRef("the webhook secret", raw.get("secret_env"),
                             relative(base, raw.get("secret_file"))),
            timeout=float(raw.get("timeout", 10)))

    def open(self, notifications: NotificationSettings) -> WebhookSender:
        settings = notifications.channels[self.name]
        if not isinstance(settings, WebhookSettings):
            raise TypeError(f"{self.name} settings are {type(settings).__name__}")
        return WebhookSender(settings, settings.secret.resolve(InventoryError))


CHANNEL = WebhookChannel()
