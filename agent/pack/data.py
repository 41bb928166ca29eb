"""Everything the pre-visit pack shows, gathered from what pbxdiag already keeps.

No line is dialled: the site and contract come from the inventory, the PBX's state from
the latest run of the site that read its cards (``result.json``: getter answers as plain
data), the faults and what was tried from the ticket register, the backup diff from the
site's backup history. The pack is as fresh as the last pre-visit run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.backups import diff_backups, history_for
from agent.backups.compare import BackupDiff
from agent.contracts import contract_for
from agent.inventory import Site
from agent.pack.parts import PartNeed, StockEntry, load_catalogue, parts_needed
from agent.tickets import Occurrence, Register, Ticket
from agent.tickets.storage.location import RegisterLocation

#: Run folders looked at for the latest one (newest first by name: run ids start with time).
MAX_RUNS_SCANNED = 2_000
MAX_RESULT_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Slot:
    cabinet: int
    slot: int
    type: str
    model_number: str
    firmware: str
    status: str
    faulty: bool  # the PBX reports the card out of service (alarms alone: shown, not marked)
    alarms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TicketView:
    ticket: Ticket
    occurrences: tuple[Occurrence, ...]


@dataclass(slots=True)
class PackData:
    site: Site
    generated_at: datetime
    contract: str
    calendar: str
    run_id: str | None
    run_at: str | None
    system: dict[str, Any]
    slots: list[Slot]
    tickets: list[TicketView]
    error_log: list[dict[str, Any]]
    alarms: list[dict[str, Any]]
    parts: list[PartNeed]
    backup_diff: BackupDiff | None
    backup_revisions: tuple[int, int] | None
    notes: list[str] = field(default_factory=list)

    @property
    def cabinets(self) -> list[tuple[int, list[Slot]]]:
        numbers = sorted({s.cabinet for s in self.slots})
        return [(n, [s for s in self.slots if s.cabinet == n]) for n in numbers]


def latest_result(data_dir: Path, site_id: str) -> dict[str, Any] | None:
    """The newest run of the site whose facts include its cards (a pre-visit or health
    check), as the JSON it was written as."""
    runs = data_dir / "runs"
    if not runs.is_dir():
        return None
    marker = f"-{site_id}-"
    names = sorted((p.name for p in runs.iterdir() if marker in p.name), reverse=True)
    for name in names[:MAX_RUNS_SCANNED]:
        path = runs / name / "result.json"
        if not path.is_file() or path.stat().st_size > MAX_RESULT_BYTES:
            continue
        result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if result.get("site") == site_id and (result.get("facts") or {}).get("cards"):
            return result
    return None


def gather(site: Site, *, data_dir: Path, db_path: RegisterLocation, now: datetime,
           stock: dict[str, StockEntry] | None = None) -> PackData:
    result = latest_result(data_dir, site.id) or {}
    facts: dict[str, Any] = result.get("facts") or {}
    notes: list[str] = []
    if not facts:
        notes.append("No run of this site has read its cards yet: run playbooks/"
                     "pre-visit.yaml first for the PBX's state.")
    alarms = list(facts.get("alarms") or [])
    error_log = list(facts.get("error_log") or [])
    parts = parts_needed(load_catalogue(site.vendor), facts, stock)
    tickets = _tickets(db_path, site.id)
    _link_parts(parts, tickets)
    diff, revisions = _backup_diff(data_dir, site.id)
    contract = contract_for(site)
    return PackData(site=site, generated_at=now, contract=site.contract,
                    calendar=contract.calendar.describe(),
                    run_id=result.get("run_id"), run_at=result.get("started_at"),
                    system=dict(facts.get("system_info") or {}),
                    slots=_slots(facts, alarms), tickets=tickets, error_log=error_log,
                    alarms=alarms, parts=parts, backup_diff=diff, backup_revisions=revisions,
                    notes=notes)


def _slots(facts: dict[str, Any], alarms: list[dict[str, Any]]) -> list[Slot]:
    by_slot: dict[tuple[int, int], list[str]] = {}
    for alarm in alarms:
        loc = alarm.get("location") or {}
        if loc.get("slot") is not None:
            key = (int(loc.get("cabinet") or 1), int(loc["slot"]))
            by_slot.setdefault(key, []).append(f"#{alarm.get('code')} {alarm.get('message')}")
    slots = []
    for card in facts.get("cards") or []:
        loc = card.get("location") or {}
        if loc.get("slot") is None:
            continue
        key = (int(loc.get("cabinet") or 1), int(loc["slot"]))
        status = str(card.get("status") or "")
        slots.append(Slot(cabinet=key[0], slot=key[1], type=str(card.get("type") or ""),
                          model_number=str(card.get("model_number") or ""),
                          firmware=str(card.get("firmware") or ""), status=status,
                          faulty=status != "in_service",
                          alarms=tuple(by_slot.get(key, ()))))
    return sorted(slots, key=lambda s: (s.cabinet, s.slot))


def _tickets(db_path: RegisterLocation, site_id: str) -> list[TicketView]:
    if isinstance(db_path, Path) and not db_path.exists():
        return []
    with Register(db_path) as register:
        return [TicketView(t, tuple(register.occurrences(t.ref)))
                for t in register.list_tickets(open_only=True, site_id=site_id)]


def _link_parts(parts: list[PartNeed], tickets: list[TicketView]) -> None:
    """Each part beside the ticket whose evidence names its code or slot (else the open
    ticket with the earliest parts deadline), with that ticket's parts deadline."""
    if not tickets:
        return
    fallback = min(tickets, key=lambda v: (v.ticket.parts_due is None,
                                           v.ticket.parts_due or v.ticket.opened_at)).ticket
    for part in parts:
        chosen = fallback
        for view in tickets:
            evidence = " ".join(view.ticket.evidence)
            if any(f"#{code}" in evidence or f" {code} " in f" {evidence} "
                   for code in part.codes) or any(
                    f"cab {cab} slot {slot:02d}" in view.ticket.signature
                    for cab, slot in part.slots):
                chosen = view.ticket
                break
        part.ticket = chosen.ref
        part.parts_due = chosen.parts_due.isoformat(timespec="minutes") \
            if chosen.parts_due else None


def _backup_diff(data_dir: Path, site_id: str) -> tuple[BackupDiff | None, tuple[int, int] | None]:
    history = history_for(data_dir, site_id)
    revisions = history.revisions()
    if len(revisions) < 2:
        return None, None
    old, new = revisions[-2], revisions[-1]
    vendor = new.vendor or old.vendor or "panasonic"
    return diff_backups(history.text(old), history.text(new), vendor), (old.number, new.number)
