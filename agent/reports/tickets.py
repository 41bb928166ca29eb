"""Ticket listings, detail, statistics and the outbox, as text for people or JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.maintenance import Window
from agent.reports.summary import when
from agent.tickets import (
    AuditEntry,
    Occurrence,
    OutboxMessage,
    SentEscalation,
    Ticket,
    TicketStats,
)
from drivers.model import to_jsonable

if TYPE_CHECKING:
    from agent.tickets.flush import FlushReport


def render_ticket_list(tickets: Sequence[Ticket], *, as_json: bool,
                       windows: Sequence[Window] = ()) -> str:
    """The tickets; ``windows`` are the maintenance windows in force now: a line per site
    after the table, and each JSON row's ``maintenance`` (null when its site is in none)."""
    by_site: dict[str, Window] = {}
    for window in windows:  # the longest window of a site is the one that matters
        if window.site_id not in by_site or \
                window.effective_end > by_site[window.site_id].effective_end:
            by_site[window.site_id] = window
    if as_json:
        return json.dumps([{**to_jsonable(t), "maintenance": _window_json(by_site, t.site_id)}
                           for t in tickets], indent=2)
    rows = ["no tickets"] if not tickets else [
        f"{'REF':<15} {'PRI':<4} {'STATE':<17} {'SEEN':>4}  {'SITE':<20} SUMMARY"]
    rows += [f"{t.ref:<15} {t.priority:<4} {t.state:<17} {t.occurrences:>4}  "
             f"{t.site_id:<20} {t.summary}{' [flapping]' if t.flapping else ''}"
             + (" [maintenance]" if t.site_id in by_site else "")
             for t in tickets]
    rows += [f"maintenance: {site_id} {w.describe()}" for site_id, w in sorted(by_site.items())]
    return "\n".join(rows)


def _window_json(by_site: dict[str, Window], site_id: str) -> dict[str, Any] | None:
    window = by_site.get(site_id)
    return None if window is None else window.to_json()


def render_flush(report: FlushReport, *, now: datetime, as_json: bool) -> str:
    """``outbox flush``: sent, failed, and each message still waiting with its next try."""
    if as_json:
        return json.dumps({"sent": report.sent, "skipped": report.skipped,
                           "failed": report.failed, "lost_lease": report.lost_lease,
                           "retried_now": report.retried_now,
                           "waiting": [{**_outbox_json(m), "due":
                                        m.next_attempt_at <= now} for m in report.waiting]},
                          indent=2)
    lines = [f"outbox: {len(report.sent)} sent, {len(report.failed)} failed, "
             f"{len(report.waiting)} waiting"
             + (f", {len(report.skipped)} skipped" if report.skipped else "")
             + (f" ({report.retried_now} retried now)" if report.retried_now else "")]
    lines += [f"  failed:  {label}" for label in [*report.failed, *report.lost_lease]]
    lines += [f"  waiting: {m.event_id} {m.channel} {m.event}: "
              + (f"next attempt {when(m.next_attempt_at)}" if m.next_attempt_at > now
                 else "due, not tried in this flush")
              + f" (attempts {m.attempts}" + (f"; last error: {m.last_error})"
                                              if m.last_error else ")")
              for m in report.waiting]
    return "\n".join(lines)


def render_ticket(ticket: Ticket, occurrences: Sequence[Occurrence],
                  audit: Sequence[AuditEntry], *, as_json: bool,
                  escalations: Sequence[SentEscalation] = (),
                  outbox: Sequence[OutboxMessage] = ()) -> str:
    if as_json:
        return json.dumps({"ticket": to_jsonable(ticket),
                           "occurrences": to_jsonable(list(occurrences)),
                           "audit": to_jsonable(list(audit)),
                           "escalations_sent": to_jsonable(list(escalations)),
                           "notifications": [_outbox_json(m) for m in outbox]}, indent=2)
    sent = {e.level: e for e in escalations}
    lines = [
        f"{ticket.ref}  {ticket.priority} {ticket.title} ({ticket.fault_class} fault)",
        f"  customer:   {ticket.customer} [{ticket.site_id}]",
        f"  state:      {ticket.state}" + (f" (flapping since {when(ticket.flapping_since)})"
                                           if ticket.flapping_since else ""),
        f"  summary:    {ticket.summary}",
        f"  rule:       {ticket.rule}",
        f"  opened:     {when(ticket.opened_at)}",
        f"  response:   due {when(ticket.response_due)}" + _done(ticket.responded_at),
    ]
    if ticket.remote_access_due is not None:
        lines.append(f"  remote:     due {when(ticket.remote_access_due)}")
    if ticket.parts_due is not None:
        lines.append(f"  parts:      due {when(ticket.parts_due)}")
    lines += [f"  escalate:   {level} at {when(due)}"
              + (f" — sent {when(sent[level].sent_at)}" if level in sent else "")
              for level, due in ticket.escalations]
    lines.append(f"  calendar:   {ticket.calendar}")
    lines += _visit_lines(ticket)
    if ticket.resolution is not None and ticket.resolved_at is not None:
        how = "remotely" if ticket.resolution == "remote" else "on site"
        lines.append(f"  resolved:   {how}, {when(ticket.resolved_at)}")
    if ticket.non_covered:
        lines.append(f"  cover:      {ticket.non_covered}")
    lines += [f"  answer:     {key}: {value}" for key, value in sorted(ticket.answers.items())]
    lines += [f"  evidence:   {item}" for item in ticket.evidence]
    lines.append(f"  seen:       {ticket.occurrences} time(s), first {when(ticket.first_seen)}, "
                 f"last {when(ticket.last_seen)}")
    if ticket.transcript:
        lines.append(f"  transcript: {ticket.transcript}")
    lines += [f"  occurrence: {when(o.seen_at)} {o.kind} {o.priority or ''} run {o.run_id}"
              for o in occurrences]
    lines += [f"  audit:      {when(a.at)} {a.who} {a.action} {a.detail}" for a in audit]
    lines += [f"  notify:     {m.event_id} {m.event} {m.channel} {m.status}"
              + (f" ({m.last_error})" if m.last_error else "") for m in outbox]
    return "\n".join(line.rstrip() for line in lines)


def render_stats(stats: TicketStats, *, as_json: bool) -> str:
    if as_json:
        data = to_jsonable(stats)
        data["remote_rate"] = stats.remote_rate
        data["response"]["rate"] = stats.response.rate
        data["remote_access"]["rate"] = stats.remote_access.rate
        return json.dumps(data, indent=2)
    since = f"since {when(stats.since)}" if stats.since else "all time"
    resolved = stats.resolved_remotely + stats.resolved_on_site
    lines = [
        f"tickets {since}: {stats.total} ({stats.open} open, {stats.flapping} flapping)",
        "  by priority:  " + ", ".join(f"{p} {n}" for p, n in stats.by_priority.items()),
        "  by state:     " + (", ".join(f"{s} {n}" for s, n in stats.by_state.items()) or "-"),
        f"  remote resolution: {_percent(stats.remote_rate)} of {resolved} resolved "
        f"({stats.resolved_remotely} remotely, {stats.resolved_on_site} on site; "
        f"target {stats.remote_target:.0%})",
        f"  response SLA:      {_percent(stats.response.rate)} met "
        f"({stats.response.met} met, {stats.response.missed} missed, "
        f"{stats.response.pending} pending)",
        f"  remote access SLA: {_percent(stats.remote_access.rate)} met "
        f"({stats.remote_access.met} met, {stats.remote_access.missed} missed, "
        f"{stats.remote_access.pending} pending)",
    ]
    return "\n".join(lines)


def render_outbox(messages: Sequence[OutboxMessage], *, as_json: bool) -> str:
    if as_json:
        return json.dumps([_outbox_json(m) for m in messages], indent=2)
    if not messages:
        return "outbox empty"
    rows = [f"{'ID':>5} {'EVENT':<20} {'KIND':<10} {'CHANNEL':<8} {'STATUS':<8} "
            f"{'TRIES':>5}  NEXT / SENT"]
    rows += [f"{m.id:>5} {m.event_id:<20} {m.event:<10} {m.channel:<8} {m.status:<8} "
             f"{m.attempts:>5}  {when(m.sent_at or m.next_attempt_at)}"
             + (f"  {m.last_error}" if m.last_error else "") for m in messages]
    return "\n".join(rows)


def render_escalations(sent: Sequence[SentEscalation]) -> str:
    if not sent:
        return "no escalation due"
    return "\n".join(f"escalated {e.ref} to {e.level.replace('_', ' ')} (due {when(e.due)})"
                     for e in sent)


def _outbox_json(message: OutboxMessage) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(message)
    data.pop("payload", None)  # the ticket itself is shown elsewhere
    data["event_id"] = message.event_id
    return data


def _visit_lines(ticket: Ticket) -> list[str]:
    if ticket.visit_date is None:
        return []
    parts = ", ".join(ticket.visit_parts) or "none listed"
    return [f"  visit:      {ticket.visit_date:%a %d %b %Y}, engineer {ticket.visit_engineer}",
            f"  bring:      {parts}"]


def _done(moment: datetime | None) -> str:
    return f" — responded {when(moment)}" if moment is not None else ""


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"
