"""Deliver the outbox: e-mail (SMTP) and a signed JSON webhook (docs/tickets.md).

``flush_outbox`` delivers what is due and returns; it never sleeps. Each message is
leased to this flusher in its own transaction, sent, then marked sent in another, so two
flushers never send one message and a flusher that dies mid-send only delays it (the
lease expires). A failure schedules the next attempt with exponential back-off in the
row itself; cron's next ``outbox flush`` picks it up when due.

E-mails thread: the first mail of a ticket has the Message-ID ``<REF@domain>`` and every
later one answers it (In-Reply-To/References), all derived from the reference, so a
retried mail keeps its Message-ID. Secrets (SMTP password, webhook key) are read from
the environment or a file at flush time, as ``Secret``s, and scrubbed from every error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self
from zoneinfo import ZoneInfo

from agent.errors import InventoryError
from agent.inventory import Inventory
from agent.line.secrets import REDACTOR, Secret
from agent.tickets.model import OutboxMessage, OutboxStatus
from agent.tickets.outbox import EVENTS
from agent.tickets.register import Register

LEVELS: Final = ("account_manager", "technical_director")
_LONDON: Final = ZoneInfo("Europe/London")
_MIN_LEASE: Final = timedelta(minutes=5)
_MAX_ERROR: Final = 500

Clock = Callable[[], datetime]


# --- settings (from the inventory's notifications: section) -----------------------------


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret lives: an environment variable or a file, never the inventory."""

    what: str
    env: str | None = None
    file: Path | None = None

    def resolve(self) -> Secret | None:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise InventoryError(f"environment variable {self.env} ({self.what}) is not set")
            return Secret(value)
        if self.file is not None:
            try:
                return Secret(self.file.read_text(encoding="utf-8").rstrip("\r\n"))
            except OSError as err:
                raise InventoryError(f"cannot read {self.what} file: {err.strerror}",
                                     path=str(self.file)) from None
        return None


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
    email: EmailSettings | None = None
    webhook: WebhookSettings | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    escalate_to: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    contracts: Mapping[str, Recipients] = field(default_factory=dict)

    def recipients(self, contract: str, level: str | None = None) -> tuple[str, ...]:
        """The contract's list (else the global one), plus the escalation level's people."""
        if self.email is None:
            return ()
        override = self.contracts.get(contract, Recipients())
        base = override.to or self.email.to
        extra: tuple[str, ...] = ()
        if level is not None:
            extra = override.escalate_to.get(level) or self.escalate_to.get(level, ())
        return tuple(dict.fromkeys((*base, *extra)))

    @property
    def lease(self) -> timedelta:
        """Long enough that a live flusher never loses its claim mid-send."""
        timeouts = [s.timeout for s in (self.email, self.webhook) if s is not None]
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
        email=_email(raw["email"], base) if "email" in raw else None,
        webhook=_webhook(raw["webhook"], base) if "webhook" in raw else None,
        retry=RetryPolicy(
            first_delay=timedelta(minutes=retry.get("first_delay_minutes", 1)),
            max_delay=timedelta(minutes=retry.get("max_delay_minutes", 60)),
            max_attempts=int(retry.get("max_attempts", 10))),
        escalate_to=_levels(raw.get("escalate_to", {})),
        contracts={name: Recipients(to=tuple(c.get("to", ())),
                                    escalate_to=_levels(c.get("escalate_to", {})))
                   for name, c in raw.get("contracts", {}).items()},
    )


def _email(raw: Mapping[str, Any], base: Path) -> EmailSettings:
    implicit_tls = bool(raw.get("ssl", False))
    return EmailSettings(
        host=raw["host"], sender=raw["from"], to=tuple(raw["to"]),
        port=int(raw.get("port", 465 if implicit_tls else 587)),
        starttls=bool(raw.get("starttls", not implicit_tls)), ssl=implicit_tls,
        username=raw.get("username"),
        password=SecretRef("the SMTP password", raw.get("password_env"),
                           _relative(base, raw.get("password_file"))),
        ca_file=_relative(base, raw.get("ca_file")),
        timeout=float(raw.get("timeout", 30)))


def _webhook(raw: Mapping[str, Any], base: Path) -> WebhookSettings:
    return WebhookSettings(
        url=raw["url"],
        secret=SecretRef("the webhook secret", raw.get("secret_env"),
                         _relative(base, raw.get("secret_file"))),
        timeout=float(raw.get("timeout", 10)))


def _levels(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {level: tuple(raw[level]) for level in LEVELS if level in raw}


def _relative(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


# --- what a message looks like (pure) ----------------------------------------------------


def subject(payload: Mapping[str, Any]) -> str:
    """``[FR-2026-000123] P2 Major System Failure — Acme Ltd, Bolton`` (+ what happened)."""
    text = (f"[{payload['ref']}] {payload['priority']} {payload['title']} — "
            f"{payload['customer']}")
    event = payload["event"]
    if event == "opened":
        return text
    if event == "escalated":
        return f"{text} (escalated to {str(payload.get('level', '')).replace('_', ' ')})"
    return f"{text} ({EVENTS.get(event, event)})"


def thread_ids(message: OutboxMessage, domain: str) -> tuple[str, str | None]:
    """This mail's Message-ID and the thread root it answers (None for the first mail)."""
    root = f"<{message.ref}@{domain}>"
    if message.seq == 1:
        return root, None
    return f"<{message.ref}.{message.seq}@{domain}>", root


def render_email(message: OutboxMessage, *, sender: str, to: Sequence[str],
                 domain: str) -> EmailMessage:
    payload = message.payload
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject(payload)
    mail["Date"] = format_datetime(message.created_at.astimezone(UTC))
    message_id, root = thread_ids(message, domain)
    mail["Message-ID"] = message_id
    if root is not None:
        mail["In-Reply-To"] = root
        mail["References"] = root
    mail["X-Pbxdiag-Ref"] = message.ref
    mail["X-Pbxdiag-Event"] = message.event
    mail.set_content(REDACTOR.scrub(email_body(payload)))
    return mail


def email_body(payload: Mapping[str, Any]) -> str:
    """Plain text a support engineer can act on from a phone."""
    lines = [f"{payload['ref']}: {payload['priority']} {payload['title']} "
             f"({payload['fault_class']} fault)",
             f"Event:      {EVENTS.get(payload['event'], payload['event'])}"
             + (f" — {payload['detail']}" if payload.get("detail") else ""),
             f"Customer:   {payload['customer']} [{payload['site_id']}]",
             f"Contract:   {payload['contract']} ({payload['calendar']})",
             f"State:      {payload['state']}" + (" (flapping)" if payload.get("flapping")
                                                  else ""),
             f"Summary:    {payload['summary']}",
             f"Rule:       {payload['rule']}",
             f"Opened:     {_when(payload['opened_at'])}",
             f"Response:   due {_when(payload['response_due'])}"]
    for label, key in (("Parts", "parts_due"), ("Remote", "remote_access_due")):
        if payload.get(key):
            lines.append(f"{label + ':':<11} due {_when(payload[key])}")
    lines += [f"Escalate:   {e['level'].replace('_', ' ')} at {_when(e['due'])}"
              for e in payload.get("escalations", [])]
    if payload.get("non_covered"):
        lines.append(f"Cover:      {payload['non_covered']} — the visit may be chargeable")
    if payload.get("visit"):
        visit = payload["visit"]
        lines.append(f"Visit:      {visit['date']}, {visit['engineer']}, parts: "
                     f"{', '.join(visit['parts']) or 'none listed'}")
    lines.append(f"Seen:       {payload['occurrences']} time(s), "
                 f"last {_when(payload['last_seen'])}")
    lines += ["", "Evidence:", *(f"  - {item}" for item in payload.get("evidence", []))]
    if payload.get("answers"):
        lines += ["", "Front-line answers:",
                  *(f"  {k}: {v}" for k, v in sorted(payload["answers"].items()))]
    if payload.get("transcript_excerpt"):
        lines += ["", "Transcript excerpt (redacted):",
                  *(f"  | {line}" for line in payload["transcript_excerpt"].splitlines())]
    if payload.get("transcript"):
        lines += ["", f"Full transcript: {payload['transcript']}"]
    return "\n".join(lines) + "\n"


def webhook_body(message: OutboxMessage) -> bytes:
    return json.dumps(message.payload, sort_keys=True, ensure_ascii=False).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body bytes with the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_headers(message: OutboxMessage, body: bytes, secret: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "pbxdiag",
               "X-Pbxdiag-Event": message.event,
               # Stable across retries: a receiver drops a delivery it has seen.
               "X-Pbxdiag-Delivery": message.event_id}
    if secret is not None:
        headers["X-Pbxdiag-Signature"] = sign(body, secret)
    return headers


def _when(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(_LONDON):%a %d %b %Y %H:%M %Z}"


# --- delivery ----------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """One attempt failed; the text is already scrubbed of secrets."""


class Mailer:
    """One SMTP session reused for a flush; reconnects after a failure."""

    def __init__(self, settings: EmailSettings, password: Secret | None) -> None:
        self.settings = settings
        self._password = password
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def send(self, mail: EmailMessage, to: Sequence[str]) -> None:
        try:
            smtp = self._session()
            refused = smtp.send_message(mail, from_addr=parseaddr(self.settings.sender)[1],
                                        to_addrs=list(to))
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryFailed(_scrub(f"SMTP {self.settings.host}: "
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
        raise DeliveryFailed(_scrub(f"webhook {settings.where}: {reason}")) from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"webhook {settings.where}: HTTP {status}")


# --- flushing ------------------------------------------------------------------------------


@dataclass(slots=True)
class FlushReport:
    """What one flush did: ``FR-2026-000001.2 email`` labels (with the error if any)."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost_lease: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.retrying or self.failed or self.lost_lease)


def flush_outbox(register: Register, settings: NotificationSettings, *,
                 clock: Clock | None = None, owner: str | None = None,
                 limit: int | None = None) -> FlushReport:
    """Deliver every notification that is due now, once; return what happened."""
    now = clock or _utcnow
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    password = settings.email.password.resolve() if settings.email else None
    secret = settings.webhook.secret.resolve() if settings.webhook else None
    report = FlushReport()
    with ExitStack() as stack:
        mailer = stack.enter_context(Mailer(settings.email, password)) if settings.email else None
        while limit is None or _handled(report) < limit:
            message = register.claim_next(owner=owner, now=now(), lease=settings.lease)
            if message is None:
                break
            _deliver_one(register, settings, message, owner=owner, now=now, mailer=mailer,
                         secret=secret, report=report)
    return report


def _deliver_one(register: Register, settings: NotificationSettings, message: OutboxMessage, *,
                 owner: str, now: Clock, mailer: Mailer | None, secret: Secret | None,
                 report: FlushReport) -> None:
    label = f"{message.event_id} {message.channel}"
    try:
        delivered = _send(settings, message, mailer=mailer, secret=secret)
    except DeliveryFailed as exc:
        error = str(exc)[:_MAX_ERROR]
        if message.attempts >= settings.retry.max_attempts:
            finished = register.finish_delivery(message.id, owner=owner, status="failed",
                                                now=now(), error=error)
            (report.failed if finished else report.lost_lease).append(f"{label}: {error}")
            return
        retry_at = now() + settings.retry.delay(message.attempts)
        finished = register.finish_delivery(message.id, owner=owner, status="pending",
                                            now=now(), error=error, retry_at=retry_at)
        (report.retrying if finished else report.lost_lease).append(f"{label}: {error}")
        return
    status: OutboxStatus = "sent" if delivered else "skipped"
    note = None if delivered else f"{message.channel} is not configured"
    finished = register.finish_delivery(message.id, owner=owner, status=status, now=now(),
                                        error=note)
    if not finished:
        report.lost_lease.append(label)
    else:
        (report.sent if delivered else report.skipped).append(label)


def _send(settings: NotificationSettings, message: OutboxMessage, *, mailer: Mailer | None,
          secret: Secret | None) -> bool:
    """Deliver on the message's channel; False when that channel is not configured."""
    if message.channel == "email":
        if settings.email is None or mailer is None:
            return False
        to = settings.recipients(str(message.payload.get("contract", "")),
                                 message.payload.get("level"))
        mailer.send(render_email(message, sender=settings.email.sender, to=to,
                                 domain=settings.email.domain), to)
        return True
    if settings.webhook is None:
        return False
    post_webhook(settings.webhook, secret, message)
    return True


def _handled(report: FlushReport) -> int:
    return sum(len(x) for x in (report.sent, report.skipped, report.retrying, report.failed,
                                report.lost_lease))


def _scrub(text: str) -> str:
    return REDACTOR.scrub(text)


def _utcnow() -> datetime:
    return datetime.now(UTC)
