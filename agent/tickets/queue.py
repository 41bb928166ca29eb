"""The outbox as a delivery queue: claim the next due message, finish it, list them.

Queuing happens inside the change that causes a notification (``Register``), so a crash
can neither lose one nor invent one; delivering is this module's three operations, each
its own transaction, used by the flush loop (``agent.tickets.flush``). A claim is a lease
to one flusher; a lease that expired (its flusher died mid-send) may be claimed again, and
finishing checks the lease is still ours, which is what makes delivery at most once per
claim and, with stable event ids, exactly once for the receiver.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.tickets.model import OutboxMessage, OutboxStatus
from agent.tickets.storage import TicketStore


def claim_next(store: TicketStore, *, owner: str, now: datetime,
               lease: timedelta) -> OutboxMessage | None:
    """Lease the next due notification to ``owner``; None when nothing is due.

    Per ticket and channel the outbox is first in, first out: a message waits while an
    earlier one is pending (so the mail that starts the helpdesk thread goes first).
    """
    with store.transaction() as tx:
        return tx.claim_due(at=now, owner=owner, lease_until=now + lease)


def finish_delivery(store: TicketStore, message_id: int, *, owner: str, status: OutboxStatus,
                    now: datetime, error: str | None = None,
                    retry_at: datetime | None = None) -> bool:
    """Record how a leased delivery ended and release the lease.

    ``pending`` with ``retry_at`` schedules another attempt; ``sent``, ``skipped`` and
    ``failed`` are final. False when the lease was no longer ours (it expired and
    another flusher took the message): the caller must not assume its outcome stuck.
    """
    next_at = retry_at if status == "pending" and retry_at is not None else now
    sent_at = now if status == "sent" else None
    with store.transaction() as tx:
        return tx.finish(message_id, owner=owner, status=status, sent_at=sent_at, error=error,
                         next_at=next_at)


def list_outbox(store: TicketStore, *, status: OutboxStatus | None = None,
                ref: str | None = None, channel: str | None = None) -> list[OutboxMessage]:
    return store.outbox(status=status, ref=ref, channel=channel)
