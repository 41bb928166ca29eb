"""Tickets: classify a run, compute its SLA clock, keep it in the fault register, notify.

The register queues each notification once per channel module in ``channels/``; delivery
(``agent.tickets.flush``) is imported only by the commands that flush the outbox.
"""

from agent.tickets.classify import (
    FAULT_CLASSES,
    PRIORITY_RANK,
    PRIORITY_TITLES,
    Classification,
    Priority,
)
from agent.tickets.faults import classify, classify_all
from agent.tickets.lifecycle import CLOSED_STATES, STATES, InvalidTransition
from agent.tickets.model import (
    AuditEntry,
    Occurrence,
    OutboxMessage,
    Outcome,
    RunDetails,
    SentEscalation,
    Ticket,
    TicketNotFound,
)
from agent.tickets.register import Register
from agent.tickets.sla import (
    Contract,
    Deadlines,
    WorkingCalendar,
    add_working_hours,
    deadlines,
    working_time_between,
)
from agent.tickets.stats import TicketStats, compute_stats

__all__ = [
    "CLOSED_STATES",
    "FAULT_CLASSES",
    "PRIORITY_RANK",
    "PRIORITY_TITLES",
    "STATES",
    "AuditEntry",
    "Classification",
    "Contract",
    "Deadlines",
    "InvalidTransition",
    "Occurrence",
    "OutboxMessage",
    "Outcome",
    "Priority",
    "Register",
    "RunDetails",
    "SentEscalation",
    "Ticket",
    "TicketNotFound",
    "TicketStats",
    "WorkingCalendar",
    "add_working_hours",
    "classify",
    "classify_all",
    "compute_stats",
    "deadlines",
    "working_time_between",
]
