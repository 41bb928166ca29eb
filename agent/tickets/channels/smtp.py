"""The ``email`` channel: threaded plain-text mail over SMTP (STARTTLS or implicit TLS).

One SMTP session is reused for a whole flush and reopened after a failure. The password
is read (``SecretRef``) when the flush opens the channel and scrubbed from every error.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from agent.errors import InventoryError
from agent.line.secrets import REDACTOR, Secret, SecretRef
from agent.tickets.channels import DeliveryFailed
from agent.tickets.model import OutboxMessage
from agent.tickets.render import render_email
from agent.tickets.settings import NotificationSettings, relative


@dataclass(frozen=True, slots=True)
class EmailSettings:
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465)
    username: str | None = None
    password: SecretRef = field(default_factory=lambda: SecretRef("the SMTP password"))
    ca_file: Path | None = None
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        """Right-hand side of Message-IDs: the sender's domain."""
        address = parseaddr(self.sender)[1]
        return address.rpartition("@")[2] or "pbxdiag.invalid"


def recipients(notifications: NotificationSettings, contract: str,
               level: str | None = None) -> tuple[str, ...]:
    """Who gets a contract's mail: its list (else the global ``to:``), plus the level's."""
    email = notifications.channels.get(EmailChannel.name)
    if not isinstance(email, EmailSettings):
        return ()
    return notifications.recipients(contract, level, default=email.to)


class Mailer:
    """One SMTP session reused for a flush; reconnects after a failure."""

    def __init__(self, settings: EmailSettings, password: Secret | None,
                 notifications: NotificationSettings) -> None:
        self.settings = settings
        self._password = password
        self._notifications = notifications
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: OutboxMessage) -> None:
        """Render the outbox row for its contract's (and escalation level's) people; send."""
        to = recipients(self._notifications, str(message.payload.get("contract", "")),
                        message.payload.get("level"))
        self.send_mail(render_email(message, sender=self.settings.sender, to=to,
                                    domain=self.settings.domain), to)

    def send_mail(self, mail: EmailMessage, to: Sequence[str]) -> None:
        try:
            smtp = self._session()
            refused = smtp.send_message(mail, from_addr=parseaddr(self.settings.sender)[1],
                                        to_addrs=list(to))
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryFailed(REDACTOR.scrub(f"SMTP {self.settings.host}: "
                                                f"{type(exc).__name__}: {exc}")) from None
        if refused:
            raise DeliveryFailed(f"SMTP refused {', '.join(sorted(refused))}")

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        smtp: smtplib.SMTP
        if s.ssl:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.starttls and not s.ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                if self._password is None:
                    raise smtplib.SMTPAuthenticationError(0, b"no password configured")
                smtp.login(s.username, self._password.reveal())
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp


class EmailChannel:
    """``notifications: email:`` — host, from, to, TLS choice and the password reference."""

    name = "email"

    def parse(self, raw: Mapping[str, Any], base: Path) -> EmailSettings:
        implicit_tls = bool(raw.get("ssl", False))
        return EmailSettings(
            host=raw["host"], sender=raw["from"], to=tuple(raw["to"]),
            port=int(raw.get("port", 465 if implicit_tls else 587)),
            starttls=bool(raw.get("starttls", not implicit_tls)), ssl=implicit_tls,
            username=raw.get("username"),
            password=SecretRef("the SMTP password", raw.get("password_env"),
                               relative(base, raw.get("password_file"))),
            ca_file=relative(base, raw.get("ca_file")),
            timeout=float(raw.get("timeout", 30)))

    def open(self, notifications: NotificationSettings) -> Mailer:
        settings = notifications.channels[self.name]
        if not isinstance(settings, EmailSettings):
            raise TypeError(f"{self.name} settings are {type(settings).__name__}")
        return Mailer(settings, settings.password.resolve(InventoryError), notifications)


CHANNEL = EmailChannel()
