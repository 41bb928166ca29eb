"""Deliver the outbox: every due notification, once, on its channel (docs/tickets.md).

``flush_outbox`` delivers what is due and returns; it never sleeps. Each message is
leased to this flusher in its own transaction, sent, then marked sent in another, so two
flushers never send one message and a flusher that dies mid-send only delays it (the
lease expires). A failure schedules the next attempt with exponential back-off in the
row itself; cron's next ``outbox flush`` picks it up when due (``retry_now`` makes the
waiting ones due at once: ``outbox flush --now``). The report lists what is still waiting
afterwards, each with its next attempt, so "nothing to retry" is never said while mail
sits in back-off. Which code sends a row is
its channel's module (``agent/tickets/channels/``); a row whose channel is not configured
is marked ``skipped``. Secrets are resolved when the channels open, before any send.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from agent.tickets import channels
from agent.tickets.channels import DeliveryFailed, Sender
from agent.tickets.model import OutboxMessage, OutboxStatus
from agent.tickets.register import Register
from agent.tickets.settings import NotificationSettings

_MAX_ERROR: Final = 500
#: A report lists at most this many waiting messages (``outbox list`` shows them all).
_MAX_WAITING: Final = 1000

Clock = Callable[[], datetime]


@dataclass(slots=True)
class FlushReport:
    """What one flush did: ``FR-2026-000001.2 email`` labels (with the error if any)."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost_lease: list[str] = field(default_factory=list)
    #: Every message still pending after the flush (in back-off, or behind an earlier
    #: message of its ticket and channel), oldest first.
    waiting: list[OutboxMessage] = field(default_factory=list)
    #: How many waiting messages ``retry_now`` made due before this flush.
    retried_now: int = 0

    @property
    def ok(self) -> bool:
        return not (self.retrying or self.failed or self.lost_lease)

    @property
    def handled(self) -> int:
        return sum(len(x) for x in (self.sent, self.skipped, self.retrying, self.failed,
                                    self.lost_lease))


def flush_outbox(register: Register, settings: NotificationSettings, *,
                 clock: Clock | None = None, owner: str | None = None,
                 limit: int | None = None, retry_now: bool = False) -> FlushReport:
    """Deliver every notification that is due now, once; return what happened.

    ``retry_now`` first makes every message waiting in back-off due (the desk knows the
    mail server is back); each is still tried once, and one that fails again goes back
    into back-off with its attempt counted.
    """
    now = clock or _utcnow
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    known = channels.discover()
    report = FlushReport()
    if retry_now:
        report.retried_now = register.retry_now(now=now())
    with ExitStack() as stack:
        senders: dict[str, Sender] = {
            name: stack.enter_context(closing(known[name].open(settings)))
            for name in known if name in settings.channels}
        while limit is None or report.handled < limit:
            message = register.claim_next(owner=owner, now=now(), lease=settings.lease)
            if message is None:
                break
            _deliver_one(register, settings, message, owner=owner, now=now, senders=senders,
                         report=report)
    report.waiting = register.outbox(status="pending")[:_MAX_WAITING]
    return report


def _deliver_one(register: Register, settings: NotificationSettings, message: OutboxMessage, *,
                 owner: str, now: Clock, senders: Mapping[str, Sender],
                 report: FlushReport) -> None:
    label = f"{message.event_id} {message.channel}"
    sender = senders.get(message.channel)
    try:
        if sender is not None:
            sender.send(message)
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
    delivered = sender is not None
    status: OutboxStatus = "sent" if delivered else "skipped"
    note = None if delivered else f"{message.channel} is not configured"
    finished = register.finish_delivery(message.id, owner=owner, status=status, now=now(),
                                        error=note)
    if not finished:
        report.lost_lease.append(label)
    else:
        (report.sent if delivered else report.skipped).append(label)


def _utcnow() -> datetime:
    return datetime.now(UTC)
