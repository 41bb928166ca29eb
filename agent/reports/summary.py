"""The short, readable summary a support engineer sees after a run."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from agent.diagnose import Diagnosis
from agent.result import RunStatus, StepResult, StepStatus
from agent.tickets.filing import Filing

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
    lines += _filing_lines(diagnosis.filing, passed=result.status is RunStatus.PASSED)
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


def _filing_lines(filing: Filing, *, passed: bool) -> list[str]:
    if filing.maintenance is not None:
        return _maintenance_lines(filing, passed=passed)
    if filing.classification is None or filing.outcome is None:
        if not passed:
            return ["  verdict:   not diagnosed — no fault ticket opened"]
        lines = ["  verdict:   all checks passed"]
        if filing.cleared:
            refs = ", ".join(t.ref for t in filing.cleared)
            lines.append(f"  all clear: recorded on open ticket(s) {refs}")
        return lines
    c, outcome = filing.classification, filing.outcome
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


def _maintenance_lines(filing: Filing, *, passed: bool) -> list[str]:
    """What the run found, said plainly, and that the window kept it off the register."""
    assert filing.maintenance is not None
    lines = [f"  found:     {c.priority} {c.title} — {c.summary}" for c in filing.found]
    if not filing.found:
        lines.append("  found:     " + ("all checks passed" if passed else "not diagnosed"))
    lines.append(f"  verdict:   in maintenance: no ticket filed, nothing mailed "
                 f"(window {filing.maintenance.describe()})")
    return lines
