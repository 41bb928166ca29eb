"""The short, readable summary a support engineer sees after a run."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.diagnose import Diagnosis
from agent.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECKS_FAILED,
    EXIT_HALF_PROGRAMMED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNREACHABLE,
)
from agent.result import ErrorCause, RunResult, StepResult, StepStatus
from agent.tickets.classify import Classification
from agent.tickets.filing import Filing
from agent.tickets.register import Outcome

_LONDON = ZoneInfo("Europe/London")
_STATUS_WORD = {
    StepStatus.OK: "ok",
    StepStatus.CHANGED: "changed",
    StepStatus.FAILED: "FAILED",
    StepStatus.SKIPPED: "skipped",
    StepStatus.ERROR: "ERROR",
}


def when(moment: datetime) -> str:
    local = moment.astimezone(_LONDON)
    return f"{local:%a %d %b %Y %H:%M %Z}"


def render_summary(diagnosis: Diagnosis) -> str:
    result, site = diagnosis.result, diagnosis.site
    lines = [f"{site.title} ({site.id}) — {result.playbook}",
             f"  line:      {result.path or 'none reached'}"]
    lines += [f"  tried:     {a.url}: {a.error}" for a in result.paths_tried if a.error]
    if result.error:
        lines.append(f"  problem:   {result.error}")
    if result.steps:
        lines.append("")
        width = max(len(step.name) for step in result.steps)
        lines += [_step_line(step, width) for step in result.steps]
    lines.append("")
    lines += change_lines(result)
    lines += _filing_lines(diagnosis.filing, diagnosis.exit_code, result.half_programmed,
                           unreadable=_unreadable(result))
    if diagnosis.notified is not None:
        report = diagnosis.notified
        pending = len(report.retrying) + len(report.failed) + len(report.lost_lease)
        lines.append(f"  notified:  {len(report.sent)} sent"
                     + (f", {pending} left in the outbox for retry" if pending else ""))
    lines.append(f"  result:    {diagnosis.files.result}")
    lines.append(f"  transcript: {diagnosis.files.transcript}")
    return "\n".join(lines)


def _step_line(step: StepResult, width: int) -> str:
    line = f"  {_STATUS_WORD[step.status]:<8}{step.name:<{width}}"
    if step.status in (StepStatus.FAILED, StepStatus.ERROR):
        why = step.on_failure.summary if step.on_failure and step.on_failure.summary else ""
        line += f"  {why or step.message}"
    return line.rstrip()


#: What a run that filed no fault says, by its exit code.
_NO_FAULT_VERDICT = {
    EXIT_OK: "all checks passed",
    EXIT_CHECKS_FAILED: "a check failed — no fault ticket opened",
    EXIT_BAD_INPUT: "not diagnosed — a step failed for a reason of ours (see the ERROR "
                    "steps: the playbook, its vars or the answers); nothing filed",
    EXIT_UNREACHABLE: "not diagnosed — the PBX was not reached, or its replies could not "
                      "be used; nothing filed",
    EXIT_HALF_PROGRAMMED: "PROGRAMMING CHANGE NOT MADE AS ASKED — see the failed step; "
                          "for the engineer, not a customer fault: nothing filed",
    EXIT_INTERNAL: "pbxdiag failed inside a step (a bug of ours: the result is recorded); "
                   "nothing filed",
}


def _unreadable(result: RunResult) -> int:
    """Replies the PBX (or the line) spoilt: each was read twice before it counted."""
    return sum(1 for step in result.steps
               if step.status is StepStatus.ERROR and step.cause is ErrorCause.REPLY)


def _filing_lines(filing: Filing, exit_code: int, half_programmed: bool, *,
                  unreadable: int = 0) -> list[str]:
    if filing.maintenance is not None:
        return _maintenance_lines(filing, passed=exit_code == EXIT_OK)
    lines: list[str] = []
    if half_programmed:
        lines.append("  verdict:   !!! PBX MAY BE HALF-PROGRAMMED — check it by hand before "
                     "anything else is done on this site")
        if filing.engineer_action is not None:
            lines.append(f"  engineer:  {filing.engineer_action.ref} — the desk is told "
                         "(an engineer action: no customer ticket, no SLA clock)")
    elif not filing.faults and exit_code == EXIT_UNREACHABLE and unreadable:
        lines.append(f"  verdict:   not diagnosed — the line is unreliable: {unreadable} "
                     f"repl{'ies' if unreadable > 1 else 'y'} could not be read, even read "
                     "again; nothing filed")
    elif not filing.faults:
        lines.append(f"  verdict:   {_NO_FAULT_VERDICT.get(exit_code, 'not diagnosed')}")
    for fault, outcome in filing.faults:
        lines += _fault_lines(fault, outcome)
    if filing.cleared:
        refs = ", ".join(t.ref for t in filing.cleared)
        lines.append(f"  all clear: recorded on open ticket(s) {refs}")
    return lines


def _fault_lines(c: Classification, outcome: Outcome) -> list[str]:
    ticket = outcome.ticket
    lines = [f"  fault:     {c.fault_class} fault — {c.priority} {c.title}",
             f"             {c.summary}",
             f"             rule: {c.rule}"]
    lines += [f"             evidence: {item}" for item in c.evidence[:6]]
    if c.non_covered:
        lines.append(f"  cover:     {c.non_covered}")
    if outcome.opened:
        lines.append(f"  ticket:    {ticket.ref} opened (state {ticket.state})")
    else:
        upgraded = f", upgraded to {ticket.priority}" if outcome.upgraded else ""
        lines.append(f"  ticket:    {ticket.ref} already open — occurrence {ticket.occurrences} "
                     f"recorded, no new ticket{upgraded}")
    lines.append(f"  response:  due {when(ticket.response_due)}")
    if ticket.parts_due is not None:
        lines.append(f"  parts:     due {when(ticket.parts_due)}")
    return lines


def change_lines(result: RunResult) -> list[str]:
    """Each programming change as ``setting target: current → wanted``: what check mode
    would write, or what --apply wrote (a write-only value is shown masked)."""
    changes = [step.diff for step in result.steps
               if step.diff is not None and step.status is StepStatus.CHANGED]
    if not changes:
        return []
    heading = "would change (check mode, nothing written; --apply makes them):" \
        if result.check_mode else "changed:"
    return [f"  {heading}", *(f"    {_change_text(diff)}" for diff in changes)]


def _change_text(diff: dict[str, Any]) -> str:
    label = f"{diff['setting']} {diff['target']}" if diff.get("target") else diff["setting"]
    before = "(not readable)" if diff.get("before") is None else repr(diff["before"])
    return f"{label}: {before} → {diff['after']!r}"


def _maintenance_lines(filing: Filing, *, passed: bool) -> list[str]:
    """What the run found, said plainly, and that the window kept it off the register."""
    assert filing.maintenance is not None
    lines = [f"  found:     {c.priority} {c.title} — {c.summary}" for c in filing.found]
    if not filing.found:
        lines.append("  found:     " + ("all checks passed" if passed else "not diagnosed"))
    lines.append(f"  verdict:   in maintenance: no ticket filed, nothing mailed "
                 f"(window {filing.maintenance.describe()})")
    return lines
