"""A fault's identity: *what* is broken on the site, not which checks noticed it.

A component is a path, broadest first — ``system`` ⊃ ``trunks`` ⊃ ``trunks / cab 1 slot
03`` ⊃ ``trunks / cab 1 slot 03 / port 05`` — and containment is prefix order, with
``system`` containing everything. Health check, triage, pre-visit, the nightly fleet and
a user's own playbook that see the same dead card therefore attach to one ticket; a worse
finding about a containing component widens it; a disjoint component (a dead trunk card
beside a dead extension card) is its own ticket. Pure functions over plain values.

A ticket keeps its component in its ``signature`` (``component:trunks/cab 1 slot 03``), so
the register needs no new column and an old register migrates by rewriting that field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

Component = tuple[str, ...]

SYSTEM: Final[Component] = ("system",)
PREFIX: Final = "component:"

#: Components of the rules whose component does not depend on the evidence.
FIXED: Final[Mapping[str, Component]] = {
    "processor-down": SYSTEM,
    "no-working-extension": SYSTEM,
    "extension-cards-down": SYSTEM,
    "caller-no-calls": SYSTEM,
    "pbx-dead": SYSTEM,
    "all-trunks-down": ("trunks",),
    "digital-sync-loss": ("trunks",),
    "caller-no-external-calls": ("trunks",),
    "night-mode-stuck": ("time-service",),
    "digital-trunk-alarm": ("trunks",),
    "power-alarm": ("power",),
    "battery-low": ("power", "battery"),
    "fan-alarm": ("fan",),
    "clock-sync": ("clock",),
    "voicemail-card": ("voicemail",),
    "smdr-link": ("smdr-link",),
    "system-restart": ("restart",),
}
#: What a run must have read to prove a component healthy again, by its first element.
#: Alarm-only components are proven by the active alarms: "the alarm is gone".
PROOF: Final[Mapping[str, frozenset[str]]] = {
    "system": frozenset({"cards", "extensions", "trunks"}),
    "trunks": frozenset({"trunks"}),
    "extensions": frozenset({"cards", "extensions"}),
    "cards": frozenset({"cards"}),
    "time-service": frozenset({"operating_mode"}),
    "power": frozenset({"alarms"}),
    "fan": frozenset({"alarms"}),
    "clock": frozenset({"alarms"}),
    "voicemail": frozenset({"alarms"}),
    "smdr-link": frozenset({"alarms"}),
    "restart": frozenset({"alarms"}),
}
#: Which components a check that read a getter speaks about (for playbook hints).
GETTER_DOMAINS: Final[Mapping[str, frozenset[str]]] = {
    "trunks": frozenset({"trunks"}),
    "extensions": frozenset({"extensions", "system"}),
    "cards": frozenset({"cards", "trunks", "extensions", "system"}),
    "alarms": frozenset({"power", "fan", "clock", "voicemail", "smdr-link", "restart",
                         "trunks", "system"}),
    "error_log": frozenset({"power", "fan", "clock", "voicemail", "smdr-link", "restart",
                            "trunks", "system"}),
    "operating_mode": frozenset({"time-service"}),
    "system_info": frozenset({"system"}),
}
_WHERE: Final = re.compile(r"\(cab (\d+) slot (\d+)\)")


def contains(outer: Component, inner: Component) -> bool:
    """``outer`` is ``inner`` or one of its ancestors; ``system`` contains everything."""
    return outer == SYSTEM or inner[:len(outer)] == outer


def related(a: Component, b: Component) -> bool:
    return contains(a, b) or contains(b, a)


def common(components: Iterable[Component]) -> Component:
    """The narrowest component containing all of them (their common prefix)."""
    items = list(components)
    if not items:
        return SYSTEM
    prefix = list(items[0])
    for item in items[1:]:
        n = 0
        while n < min(len(prefix), len(item)) and prefix[n] == item[n]:
            n += 1
        prefix = prefix[:n]
    return tuple(prefix) or SYSTEM


def text(component: Component) -> str:
    return " / ".join(component)


def signature(component: Component) -> str:
    return PREFIX + "/".join(component)


def from_signature(value: str) -> Component | None:
    """The component a ticket's signature records; None for a pre-identity signature."""
    if not value.startswith(PREFIX):
        return None
    return tuple(value[len(PREFIX):].split("/"))


def identity(rule: str, component: Component) -> str:
    """How a person reads it: ``extension-card-down @ extensions / cab 1 slot 01``."""
    return f"{rule} @ {text(component)}"


def where(record: Mapping[str, Any], *, card_only: bool = False) -> tuple[str, ...]:
    """``("cab 1 slot 03", "port 05")`` from a record's location, as the model prints it."""
    loc = record.get("location")
    loc = loc if isinstance(loc, Mapping) else {}
    cabinet, slot, port = loc.get("cabinet"), loc.get("slot"), loc.get("port")
    if not isinstance(slot, int):
        return ()
    parts = [f"cab {cabinet} slot {slot:02d}"]
    if not card_only and isinstance(port, int):
        parts.append(f"port {port:02d}")
    return tuple(parts)


def observed(component: Component, read: Iterable[str]) -> bool:
    """Did a run read everything that would show this component broken?"""
    needed = PROOF.get(component[0])
    if component[0] == "check" and len(component) > 1:
        needed = frozenset({component[1]})
    return needed is not None and needed <= set(read)


def recompute(rule: str, evidence: Sequence[str]) -> Component | None:
    """A pre-identity ticket's component from its stored rule and evidence lines, when
    they say enough (the migration of an old register); None when they do not."""
    if rule in FIXED:
        return FIXED[rule]
    domain = {"extension-card-down": "extensions", "extensions-down": "extensions",
              "trunks-down": "trunks"}.get(rule)
    places = []
    for line in evidence:
        match = _WHERE.search(line)
        if match:
            places.append(f"cab {int(match[1])} slot {int(match[2]):02d}")
            if domain is None and rule == "card-down":
                domain = "trunks" if _looks_like_trunk_line(line) else "cards"
    if domain is None or not places:
        return None
    unique = sorted(set(places))
    return (domain, unique[0]) if len(unique) == 1 else (domain,)


def _looks_like_trunk_line(line: str) -> bool:
    return bool(re.match(r"(LCOT|DID|E&M|T1|E1|BRI|PRI|IP-GW|RCO|RCI|RDD|REM|RDT|RPT|BPT|RBS|"
                         r"RBU|BVP|BIP)", line))
