"""Maintenance windows: while an engineer works on a site, its runs file no customer ticket.

A window is planned work on the customer's PBX (an engineer on site, a card swap, a
planned programming change). Runs during it are recorded as usual — result.json, the
transcript — but what they find is the engineer's work in progress, not a fault to mail
the desk about; escalations of the site's open tickets wait too (docs/tickets.md
"Maintenance windows"). Windows come from the inventory (``maintenance:`` on a site) or
from ``pbxdiag sites maintenance`` (kept in the register, with who set them).

This module is pure: the window record, how ``--until`` / ``from:`` / ``until:`` are
read, and which window covers a moment. It sits beside ``agent.inventory`` (which reads
the inventory's windows through it) and below ``agent.tickets`` (which stores and obeys
them), so neither has to import the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from agent.errors import InputError

LONDON: Final = ZoneInfo("Europe/London")
#: The longest window: a site silenced for longer is a site nobody watches.
MAX_WINDOW: Final = timedelta(days=31)
#: A reason is a line in a listing, not a document.
MAX_REASON: Final = 200
#: Windows per site in an inventory (the register ends old ones; a file only grows).
MAX_INVENTORY_WINDOWS: Final = 50

Source = Literal["inventory", "register"]

_DURATION = re.compile(r"^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?$")
_WHEN = {"type": "string", "minLength": 1, "maxLength": 40}

#: The inventory's ``maintenance:`` key of a site (agent/inventory.py ``_SITE``).
SCHEMA: Final[dict[str, Any]] = {
    "type": "array",
    "maxItems": MAX_INVENTORY_WINDOWS,
    "description": "planned work: runs in a window file no ticket and mail no one "
                   "(tickets.md)",
    "examples": [[{"from": "2026-05-02T08:00", "until": "2026-05-02T12:00",
                   "reason": "replacing the extension card in cab 1 slot 01"}]],
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "until", "reason"],
        "properties": {
            "from": {**_WHEN, "format": "date-time", "examples": ["2026-05-02T08:00"],
                     "description": "start, ISO 8601 (no zone: Europe/London)"},
            "until": {**_WHEN, "format": "date-time", "examples": ["2026-05-02T12:00"],
                      "description": "end, ISO 8601 (no zone: Europe/London)"},
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON,
                       "examples": ["card swap"],
                       "description": "why: shown in run output and tickets list"},
        },
    },
}


@dataclass(frozen=True, slots=True)
class Window:
    """One maintenance window of one site; ``ended_at`` is an early end (``--end``)."""

    site_id: str
    starts: datetime
    ends: datetime
    reason: str
    source: Source
    set_by: str | None = None
    set_at: datetime | None = None
    id: int | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None

    @property
    def effective_end(self) -> datetime:
        return min(self.ends, self.ended_at) if self.ended_at is not None else self.ends

    def covers(self, moment: datetime) -> bool:
        return self.starts <= moment < self.effective_end

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site_id, "from": self.starts.isoformat(),
                "until": self.effective_end.isoformat(), "reason": self.reason,
                "source": self.source, "set_by": self.set_by,
                "ended_by": self.ended_by}

    def describe(self) -> str:
        """``until Sat 02 May 2026 12:00 BST — card swap (set by alice)``."""
        who = f"set by {self.set_by}" if self.set_by else f"from the {self.source}"
        local = self.effective_end.astimezone(LONDON)
        return f"until {local:%a %d %b %Y %H:%M %Z} — {self.reason} ({who})"


def active(windows: Iterable[Window], moment: datetime) -> Window | None:
    """The window covering ``moment`` that lasts longest, or None."""
    covering = [w for w in windows if w.covers(moment)]
    return max(covering, key=lambda w: w.effective_end) if covering else None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date-time (or date: midnight); without a zone it is London time."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=LONDON)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LONDON)


def parse_until(text: str, now: datetime) -> datetime:
    """``--until``: a duration from now (``4h``, ``90m``, ``1d``, ``1h30m``) or a moment."""
    found = _DURATION.match(text.strip())
    if found and any(found.groups()):
        days, hours, minutes = (int(g or 0) for g in found.groups())
        return now + timedelta(days=days, hours=hours, minutes=minutes)
    try:
        return parse_moment(text)
    except ValueError:
        raise ValueError(f"not a duration (4h, 90m, 1d) or an ISO 8601 date-time: "
                         f"{text!r}") from None


def check_window(starts: datetime, ends: datetime) -> str | None:
    """What is wrong with a window's span, or None."""
    if ends <= starts:
        return "the window ends before it starts"
    if ends - starts > MAX_WINDOW:
        return f"a window may last at most {MAX_WINDOW.days} days"
    return None


def check_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InputError("--reason: say why the site is in maintenance")
    if len(reason) > MAX_REASON:
        raise InputError(f"--reason: at most {MAX_REASON} characters")
    return reason


def normalise(data: Any) -> None:
    """YAML turns unquoted ``2026-05-02 08:00:00`` into a datetime: make it text again,
    so the inventory's schema (and editors using it) see the ISO string that was meant."""
    if not isinstance(data, dict) or not isinstance(data.get("sites"), dict):
        return
    for raw in data["sites"].values():
        windows = raw.get("maintenance") if isinstance(raw, dict) else None
        for entry in windows if isinstance(windows, list) else ():
            for key in ("from", "until"):
                value = entry.get(key) if isinstance(entry, dict) else None
                if isinstance(value, datetime | date):
                    entry[key] = value.isoformat()


def from_inventory(site_id: str, raw: list[dict[str, Any]],
                   error: Any) -> tuple[Window, ...]:
    """A site's schema-valid ``maintenance:`` list as windows; ``error(message, index,
    key)`` builds the located InventoryError for a value that does not read."""
    windows = []
    for index, entry in enumerate(raw):
        moments = {}
        for key in ("from", "until"):
            try:
                moments[key] = parse_moment(str(entry[key]))
            except ValueError as err:
                raise error(f"site {site_id!r}: maintenance {key}: {err}", index, key) from None
        problem = check_window(moments["from"], moments["until"])
        if problem is not None:
            raise error(f"site {site_id!r}: maintenance: {problem}", index, "until")
        windows.append(Window(site_id=site_id, starts=moments["from"].astimezone(UTC),
                              ends=moments["until"].astimezone(UTC),
                              reason=" ".join(str(entry["reason"]).split()),
                              source="inventory"))
    return tuple(windows)
