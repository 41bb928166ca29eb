"""Tickets: classify a run, compute its SLA clock, and keep it in the fault register."""

from agent.tickets.classify import (
    FAULT_CLASSES,
    PRIORITY_RANK,
    PRIORITY_TITLES,
    Classification,
    Priority,
    classify,
)
from agent.tickets.register import (
    AuditEntry,
    Occurrence,
    Outcome,
    Register,
    Ticket,
    TicketNotFound,
)
from agent.tickets.sla import (
    Contract,
    Deadlines,
    WorkingCalendar,
    add_working_hours,
    deadlines,
    working_time_between,
)

__all__ = [
    "FAULT_CLASSES",
    "PRIORITY_RANK",
    "PRIORITY_TITLES",
    "AuditEntry",
    "Classification",
    "Contract",
    "Deadlines",
    "Occurrence",
    "Outcome",
    "Priority",
    "Register",
    "Ticket",
    "TicketNotFound",
    "WorkingCalendar",
    "add_working_hours",
    "classify",
    "deadlines",
    "working_time_between",
]
