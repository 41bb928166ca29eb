"""From a finished RunResult to the register: classify, then open, add to, or all-clear.

This is the only place a run meets the ticket register; the register itself never opens
a connection, and a run that never reached the PBX files nothing (it was not diagnosed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.contracts import contract_for
from agent.inventory import Site
from agent.playbook.kinds import diagnostic_actions
from agent.result import RunResult, RunStatus, StepStatus
from agent.tickets.classify import Classification, classify
from agent.tickets.excerpt import transcript_excerpt
from agent.tickets.model import RunDetails
from agent.tickets.register import Outcome, Register, Ticket


@dataclass(frozen=True, slots=True)
class Filing:
    """What the register did with one run."""

    classification: Classification | None = None
    outcome: Outcome | None = None
    cleared: tuple[Ticket, ...] = field(default_factory=tuple)


def file_run(register: Register, site: Site, result: RunResult,
             now: datetime | None = None) -> Filing:
    """Record a run's verdict; any notification it causes is queued in the same change."""
    moment = now or result.finished_at or datetime.now(UTC)
    if not diagnosed(result) and not result.half_programmed:
        return Filing()  # a change-only run says nothing about the site's health
    if result.status is RunStatus.ERROR and not result.half_programmed:
        # The line went mid-run: a partial set of checks would open a ticket under a
        # different signature than the complete run will. The run is recorded; the next
        # complete run decides.
        return Filing()
    if result.status is RunStatus.PASSED:
        cleared = register.record_all_clear(site_id=site.id, run_id=result.run_id, now=moment)
        return Filing(cleared=tuple(cleared))
    classification = classify(result)
    if classification is None:
        return Filing()
    outcome = register.record_fault(site_id=site.id, customer=site.title,
                                    classification=classification,
                                    contract=contract_for(site), run_id=result.run_id,
                                    now=moment, run=run_details(result))
    return Filing(classification=classification, outcome=outcome)


def diagnosed(result: RunResult) -> bool:
    """Did the run check anything? Only then may it open a ticket or give an all-clear."""
    return any(step.action in diagnostic_actions() and step.status is not StepStatus.SKIPPED
               for step in result.steps)


def run_details(result: RunResult) -> RunDetails:
    """Read outside the register's transaction: the excerpt comes from a file."""
    return RunDetails(transcript=result.transcript,
                      excerpt=transcript_excerpt(result.transcript, result.steps),
                      answers=dict(result.answers))
