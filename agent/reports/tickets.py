"""Ticket listings and detail, as text for people or JSON for scripts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agent.reports.summary import when
from agent.tickets import AuditEntry, Occurrence, Ticket


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def render_ticket_list(tickets: Sequence[Ticket], *, as_json: bool) -> str:
    if as_json:
        return json.dumps([_jsonable(t) for t in tickets], indent=2)
    if not tickets:
        return "no tickets"
    rows = [f"{'REF':<15} {'PRI':<4} {'STATE':<10} {'SEEN':>4}  {'SITE':<20} SUMMARY"]
    rows += [f"{t.ref:<15} {t.priority:<4} {t.state:<10} {t.occurrences:>4}  "
             f"{t.site_id:<20} {t.summary}" for t in tickets]
    return "\n".join(rows)


def render_ticket(ticket: Ticket, occurrences: Sequence[Occurrence],
                  audit: Sequence[AuditEntry], *, as_json: bool) -> str:
    if as_json:
        return json.dumps({"ticket": _jsonable(ticket),
                           "occurrences": _jsonable(list(occurrences)),
                           "audit": _jsonable(list(audit))}, indent=2)
    lines = [
        f"{ticket.ref}  {ticket.priority} {ticket.title} ({ticket.fault_class} fault)",
        f"  customer:   {ticket.customer} [{ticket.site_id}]",
        f"  state:      {ticket.state}",
        f"  summary:    {ticket.summary}",
        f"  rule:       {ticket.rule}",
        f"  opened:     {when(ticket.opened_at)}",
        f"  response:   due {when(ticket.response_due)}",
    ]
    if ticket.parts_due is not None:
        lines.append(f"  parts:      due {when(ticket.parts_due)}")
    lines += [f"  escalate:   {level} at {when(due)}" for level, due in ticket.escalations]
    lines.append(f"  calendar:   {ticket.calendar}")
    if ticket.non_covered:
        lines.append(f"  cover:      {ticket.non_covered}")
    lines += [f"  evidence:   {item}" for item in ticket.evidence]
    lines.append(f"  seen:       {ticket.occurrences} time(s), first {when(ticket.first_seen)}, "
                 f"last {when(ticket.last_seen)}")
    lines += [f"  occurrence: {when(o.seen_at)} {o.kind} {o.priority or ''} run {o.run_id}"
              for o in occurrences]
    lines += [f"  audit:      {when(a.at)} {a.who} {a.action} {a.detail}" for a in audit]
    return "\n".join(line.rstrip() for line in lines)
