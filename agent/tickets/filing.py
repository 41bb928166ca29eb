"""From a finished RunResult to the register: classify, then open, add to, or all-clear.

This is the only place a run meets the ticket register; the register itself never opens
a connection, and a run that never reached the PBX files nothing (it was not diagnosed).
A site in a maintenance window (agent/maintenance.py) files nothing either: the run is
recorded, and what it found is reported with the window, not ticketed or mailed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.contracts import contract_for
from agent.inventory import Site
from agent.maintenance import Window, active
from agent.playbook.kinds import diagnostic_actions
from agent.result import RunResult, RunStatus, StepStatus
from agent.tickets.classify import Classification
from agent.tickets.excerpt import transcript_excerpt
from agent.tickets.faults import classify_all
from agent.tickets.identity import from_signature, observed, related
from agent.tickets.model import EngineerAction, RunDetails
from agent.tickets.register import Outcome, Register, Ticket


@dataclass(frozen=True, slots=True)
class Filing:
    """What the register did with one run: each fault and its ticket, worst first, and
    the open tickets this run proved cleared."""

    faults: tuple[tuple[Classification, Outcome], ...] = ()
    cleared: tuple[Ticket, ...] = field(default_factory=tuple)
    #: The window the site was in: nothing was filed, ``found`` is what the run saw.
    maintenance: Window | None = None
    found: tuple[Classification, ...] = ()
    #: A PBX that may be half-programmed: the desk is told (no ticket, no SLA clock).
    engineer_action: EngineerAction | None = None

    @property
    def classification(self) -> Classification | None:
        """The worst fault (what a one-line summary shows)."""
        return self.faults[0][0] if self.faults else None

    @property
    def outcome(self) -> Outcome | None:
        return self.faults[0][1] if self.faults else None

    def maintenance_json(self) -> dict[str, Any] | None:
        """``run --json`` / ``fleet --json``: the window, and the faults not ticketed."""
        if self.maintenance is None:
            return None
        return {**self.maintenance.to_json(),
                "found": [{"identity": c.identity, "priority": c.priority, "title": c.title,
                           "summary": c.summary} for c in self.found]}


def file_run(register: Register, site: Site, result: RunResult,
             now: datetime | None = None) -> Filing:
    """Record a run's verdict; any notification it causes is queued in the same change."""
    moment = now or result.finished_at or datetime.now(UTC)
    window = active([*site.maintenance,
                     *register.maintenance_windows(site_id=site.id, at=moment)], moment)
    if window is not None:
        found = classify_all(result) if (diagnosed(result) or result.pbx_dead) \
            and result.status is not RunStatus.ERROR else ()
        return Filing(maintenance=window, found=tuple(found))
    action = _engineer_action(register, site, result, moment)
    if not diagnosed(result) and not result.half_programmed and not result.pbx_dead:
        return Filing()  # a change-only run says nothing about the site's health
    if result.status is RunStatus.ERROR and not result.half_programmed:
        # The line went mid-run: a partial set of checks would open a ticket under a
        # different signature than the complete run will. The run is recorded; the next
        # complete run decides.
        return Filing()
    faults = classify_all(result)
    details = run_details(result) if faults else RunDetails()
    filed = tuple((fault, register.record_fault(
        site_id=site.id, customer=site.title, classification=fault,
        contract=contract_for(site), run_id=result.run_id, now=moment, run=details,
        playbook=result.playbook)) for fault in faults)
    read = set(result.facts)
    components = [fault.component for fault in faults]

    def proven_clear(ticket: Ticket) -> bool:
        """All-clear only from proof: this run read what showed the fault, and sees no
        fault related to it. A run that did not look says nothing."""
        component = from_signature(ticket.signature)
        return component is not None and observed(component, read) \
            and not any(related(component, c) for c in components)

    cleared = register.record_all_clear(site_id=site.id, run_id=result.run_id, now=moment,
                                        which=proven_clear, playbook=result.playbook)
    return Filing(faults=filed, cleared=tuple(cleared), engineer_action=action)


def _engineer_action(register: Register, site: Site, result: RunResult,
                     moment: datetime) -> EngineerAction | None:
    """A run that may have left the PBX half-programmed tells the desk, once per run."""
    if not result.half_programmed:
        return None
    detail = next((step.message for step in result.steps
                   if "HALF-PROGRAMMED" in step.message), "a change could not be verified")
    return register.record_engineer_action(site_id=site.id, customer=site.title,
                                           run_id=result.run_id, kind="half_programmed",
                                           detail=detail, now=moment)


def diagnosed(result: RunResult) -> bool:
    """Did the run check anything? Only then may it open a ticket or give an all-clear."""
    return any(step.action in diagnostic_actions() and step.status is not StepStatus.SKIPPED
               for step in result.steps)


def run_details(result: RunResult) -> RunDetails:
    """Read outside the register's transaction: the excerpt comes from a file."""
    return RunDetails(transcript=result.transcript,
                      excerpt=transcript_excerpt(result.transcript, result.steps),
                      answers=dict(result.answers))
