"""An alarm line off an SMDR port to the register, exactly as a playbook run would file it.

The line is given to the same classification a run uses (``agent.tickets.faults``) as
one error-log entry of a run at the moment it is read, so the same code rules fire, with
the same fault identity, priority and SLA clock — and, as for a run, history older than
the rules' window files nothing (a buffer replayed on the monitor's first start does not
open tickets for last month's alarms). Four more rules are the monitor's own:

- a recovery line (390 after 301, 391 after 305, 393 after 307: ``drivers.recovery``)
  is proof for that component: the open tickets of the failures it clears get their
  all-clear, as from a run that read the alarms and saw them gone;
- the first 510 (SMDR disconnect) on a connection after the monitor itself had streamed
  from the site is the PBX noting the monitor's own reconnect: it files nothing;
- a site in a maintenance window files nothing (the line is kept, marked so);
- each line is filed once: its run id is its committed position (``smdr:SITE:POS``), and
  the register adds one occurrence per run id, however often the line is re-read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from agent.contracts import contract_for
from agent.inventory import Site
from agent.maintenance import active
from agent.result import RunResult, RunStatus
from agent.tickets.classify import CODE_RULES
from agent.tickets.faults import classify_all
from agent.tickets.register import Register, Ticket
from agent.tickets.storage.smdr import SmdrLog, StoredItem
from drivers.recovery import CLEARS, event

PLAYBOOK: Final = "smdr-monitor"
SMDR_DISCONNECT: Final = "510"


def run_id(item: StoredItem) -> str:
    return f"smdr:{item.site_id}:{item.pos}"


def file_alarm(register: Register, log: SmdrLog, site: Site, item: StoredItem, *,
               now: datetime) -> str:
    """File one stored alarm line and mark it; returns what became of it."""
    how = _file(register, log, site, item, now=now)
    log.mark_filed(item.id, how)
    return how


def _file(register: Register, log: SmdrLog, site: Site, item: StoredItem, *,
          now: datetime) -> str:
    code = event(str(item.data.get("code", "")))
    if code == SMDR_DISCONNECT and log.take_excuse(site.id, item.connection):
        return "own-reconnect"
    window = active([*site.maintenance, *register.maintenance_windows(site_id=site.id, at=now)],
                    now)
    if window is not None:
        return "maintenance"
    if code in CLEARS:
        cleared = _cleared_rules(code)
        done = register.record_all_clear(
            site_id=site.id, run_id=run_id(item), now=now, playbook=PLAYBOOK,
            which=lambda t: _is_cleared(t, cleared))
        return "all-clear " + ",".join(t.ref for t in done) if done else "recovery"
    run = RunResult(run_id=run_id(item), site=site.id, playbook=PLAYBOOK, started_at=now,
                    finished_at=now, status=RunStatus.FAILED,
                    facts={"error_log": [_entry(item.data)]}, vendor=site.vendor)
    faults = classify_all(run)
    refs = []
    for fault in faults:
        outcome = register.record_fault(site_id=site.id, customer=site.title,
                                        classification=fault, contract=contract_for(site),
                                        run_id=run.run_id, now=now, playbook=PLAYBOOK)
        refs.append(outcome.ticket.ref)
    return "ticket " + ",".join(refs) if refs else "no-rule"


def _entry(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """The error-log entry a run's ``error_log`` getter would give for this line."""
    return {"level": alarm.get("level"), "code": alarm.get("code"),
            "sub_code": alarm.get("sub_code"), "message": alarm.get("message"),
            "first_seen": alarm.get("at")}


def _cleared_rules(code: str) -> frozenset[str]:
    failures = CLEARS[code]
    return frozenset(rule.rule for rule in CODE_RULES if rule.codes & failures)


def _is_cleared(ticket: Ticket, rules: frozenset[str]) -> bool:
    return ticket.rule in rules
