"""A site's contract terms (inventory YAML) as an SLA ``Contract`` and working calendar.

Both the runner (a playbook's ``now`` and ``in_working_hours`` are the site's) and the
ticket filing (SLA clocks) read a site's contract; building it from the inventory's
terms lives here so neither has to reach into the other.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from agent.inventory import Site
from agent.tickets.sla import Contract, WorkingCalendar

_DAY_NUMBERS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def contract_for(site: Site) -> Contract:
    """The site's contract terms (from the inventory) as an SLA ``Contract``."""
    terms: dict[str, Any] = dict(site.contract_terms)
    calendar = _calendar(terms.pop("calendar", {}) or {})
    terms.pop("smdr_retention_days", None)  # the SMDR monitor's term, not an SLA one
    if "escalation_working_hours" in terms:
        terms["escalation_working_hours"] = tuple(terms["escalation_working_hours"])
    return Contract(name=site.contract, calendar=calendar, **terms)


def _calendar(raw: dict[str, Any]) -> WorkingCalendar:
    options: dict[str, Any] = {}
    if "timezone" in raw:
        options["timezone"] = raw["timezone"]
    if "nation" in raw:
        options["nation"] = raw["nation"]
    if "working_days" in raw:
        options["working_days"] = frozenset(_DAY_NUMBERS[d] for d in raw["working_days"])
    if "start" in raw:
        options["day_start"] = time.fromisoformat(raw["start"])
    if "end" in raw:
        options["day_end"] = time.fromisoformat(raw["end"])
    if "extra_holidays" in raw:
        options["extra_holidays"] = frozenset(date.fromisoformat(str(d))
                                              for d in raw["extra_holidays"])
    return WorkingCalendar(**options)
