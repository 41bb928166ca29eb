"""From a signal to evidence: claim the signal's window, run the health check, record it.

A signal (``signals``) is a suspicion, never a fault: what it does is start a
**confirming run** — the same ``diagnose()`` path ``pbxdiag run`` takes (the run's
result and transcript on disk, its faults filed by the run's own classification), under
the site's cross-process line lock, so a console session on that PBX is never shared.
Only that run's evidence files a ticket; a healthy PBX's run files nothing.

Bounded: the window is claimed in the register (``smdr_signals``, unique per site,
signal and window) *before* the run starts, so one signal that stays true — however
often it is checked, however often the monitor restarts — starts at most one run. A
line held by someone else for longer than ``line_wait`` uses the window's claim up too
(recorded as not run): the engineer on that console is already looking at the site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Final

import structlog

from agent.contracts import contract_for
from agent.diagnose import diagnose
from agent.errors import PbxdiagError
from agent.inventory import Site
from agent.playbook import Playbook
from agent.sitelock import LineInUse, site_line
from agent.smdr import signals
from agent.smdr.baseline import WEEKS
from agent.tickets.settings import NotificationSettings
from agent.tickets.storage.location import RegisterLocation
from agent.tickets.storage.smdr import SmdrLog

log = structlog.get_logger(__name__)

LINE_WAIT: Final = 60.0  # seconds a confirming run waits for the site's line


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a confirming run was and found."""

    run_id: str | None
    outcome: str
    tickets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Confirmer:
    """Runs ``playbook`` (the health check) on a site as ``pbxdiag run`` would."""

    playbook: Playbook
    output_dir: Path
    db_path: RegisterLocation
    notifications: NotificationSettings | None = None
    line_wait: float = LINE_WAIT

    def confirm(self, site: Site, signal: signals.Signal) -> Confirmation:
        try:
            with site_line(self.output_dir, site.id, wait=self.line_wait,
                           who=f"pbxdiag smdr monitor (confirming a {signal.kind} signal)"):
                diagnosis = diagnose(site, self.playbook, output_dir=self.output_dir,
                                     db_path=self.db_path, notifications=self.notifications)
        except LineInUse as err:
            return Confirmation(None, f"not run: {err}")
        except PbxdiagError as err:
            return Confirmation(None, f"not run: {err}")
        result, filing = diagnosis.result, diagnosis.filing
        refs = tuple(outcome.ticket.ref for _, outcome in filing.faults)
        cleared = len(filing.cleared)
        found = f"filed {', '.join(refs)}" if refs else "filed nothing"
        return Confirmation(result.run_id, f"run {result.status.value}: {found}"
                            + (f", {cleared} cleared" if cleared else ""), refs)


ConfirmFn = Callable[[Site, signals.Signal], Confirmation]


@dataclass
class SignalWatch:
    """One site's signals, checked at an injected ``now`` (the monitor's tick)."""

    site: Site
    smdr_log: SmdrLog
    started_at: datetime  # the monitor's start: silence is counted from no earlier
    confirm: ConfirmFn
    history: list[signals.Signal] = field(default_factory=list)

    def current(self, now: datetime) -> list[signals.Signal]:
        """The signals true at ``now`` (pure but for reading the register)."""
        link = self.site.smdr_link
        if link is None:
            return []
        calendar = contract_for(self.site).calendar
        stored = self.smdr_log.last_stored(self.site.id)
        last = max(self.started_at, stored) if stored is not None else self.started_at
        found = []
        quiet = signals.silence(self.site.id, calendar=calendar, now=now, last_heard=last,
                                minutes=link.silence_minutes)
        if quiet is not None:
            found.append(quiet)
        zone = calendar.zone
        first = self.smdr_log.first_record_at(self.site.id)
        since = (now - timedelta(weeks=WEEKS)).astimezone(zone).replace(tzinfo=None)
        calls = [_local(at, zone) for at in
                 self.smdr_log.outgoing_at(self.site.id, since=since.isoformat())]
        idle = signals.no_outgoing(self.site.id, calendar=calendar, now=now,
                                   calls=[c for c in calls if c is not None],
                                   history_start=None if first is None else _local(first, zone),
                                   minutes=link.no_outgoing_minutes,
                                   expected=link.expected_calls)
        if idle is not None:
            found.append(idle)
        return found

    def check(self, now: datetime | None = None) -> list[Confirmation]:
        """Claim each new signal's window and run its confirmation (synchronously)."""
        now = now or datetime.now(UTC)
        done = []
        for signal in self.current(now):
            claim = self.smdr_log.claim_signal(self.site.id, signal.kind, window=signal.window,
                                               detected_at=signal.detected_at,
                                               detail=signal.detail)
            if claim is None:
                continue  # this window's run was started already
            self.history.append(signal)
            log.warning("smdr.signal", site=self.site.id, signal=signal.kind,
                        window=signal.window.isoformat(), **signal.detail)
            confirmation = self.confirm(self.site, signal)
            self.smdr_log.record_signal_run(claim, run_id=confirmation.run_id,
                                            outcome=confirmation.outcome)
            log.info("smdr.confirmed", site=self.site.id, signal=signal.kind,
                     run_id=confirmation.run_id, outcome=confirmation.outcome,
                     tickets=list(confirmation.tickets))
            done.append(confirmation)
        return done


def _local(at: str, zone: tzinfo) -> datetime | None:
    """A PBX-local ISO stamp (no zone) as an aware time in the calendar's zone."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
