"""Map a RunResult to an SLA priority (SLA.md "Fault classes and priorities").

Pure functions over the run's recorded facts: the register and the notifiers must be able
to re-classify an old result file and get the same answer, so nothing here reads a clock,
a file or the PBX. Rules are evidence first (what the getters said), playbook hints second
(a step's ``on_failure``); the worst priority wins and the rule that fired is recorded, so
a support engineer can see *why* a ticket is P1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeGuard

from agent.result import RunResult, StepResult
from agent.tickets.cards import (
    CardFamilies,
    families_for,
    is_extension_card,
    is_processor,
    is_trunk_card,
    location,
)
from agent.tickets.identity import SYSTEM, Component, where
from agent.tickets.identity import identity as identity_text
from drivers.recovery import event

Priority = Literal["P1", "P2", "P3"]

PRIORITY_TITLES: Final[Mapping[Priority, str]] = {
    "P1": "Total System Failure",
    "P2": "Major System Failure",
    "P3": "Inconvenience",
}
FAULT_CLASSES: Final[Mapping[Priority, str]] = {"P1": "Major", "P2": "Major", "P3": "Minor"}
#: Lower is worse: P1 outranks P2 outranks P3.
PRIORITY_RANK: Final[Mapping[Priority, int]] = {"P1": 1, "P2": 2, "P3": 3}

DIGITAL_TRUNK_KINDS: Final = frozenset({"bri", "pri"})
#: Digital trunk loss of sync / RAI / AIS / multiframe / frame / data link (DOMAIN.md).
SYNC_ALARM_CODES: Final = frozenset({"300", "301", "302", "303", "304", "305"})
#: Error-log codes that point at power failure or surge: damage is not covered (SLA.md).
POWER_CODES: Final[Mapping[str, str]] = {
    "002": "System Restart after power failure",
    "010": "AC power down",
    "011": "DC power down",
}
#: How far back a power entry in the error log still explains today's fault: long enough
#: for a weekend surge reported on Monday, short enough that last quarter's power cut
#: (every site has one in its log) does not make every visit look chargeable.
POWER_LOOKBACK: Final = timedelta(days=7)
#: How far back an error-log *history* entry still counts as a symptom of this fault
#: (active alarms always count).
RECENT_LOG_WINDOW: Final = timedelta(hours=24)
#: Front-line answers that report a possible non-covered cause (SLA.md "Cover").
NON_COVERED_ANSWERS: Final[Mapping[str, str]] = {
    "power_cut": "caller reports a power cut",
    "surge": "caller reports a power surge",
}
_YES: Final = frozenset({"yes", "y", "true", "1"})
_NO: Final = frozenset({"no", "n", "false", "0"})
_WORKING_EXTENSION_STATES: Final = frozenset({"idle", "busy"})
_BROKEN_EXTENSION_STATES: Final = frozenset({"fault", "out_of_service"})


@dataclass(frozen=True, slots=True)
class Classification:
    """What a ticket needs to know about a failed run; ``signature`` deduplicates runs."""

    priority: Priority
    title: str
    fault_class: str
    rule: str
    summary: str
    evidence: tuple[str, ...]
    signature: str
    non_covered: str | None = None
    #: Every rule that fired, winner first: the audit of why this priority.
    fired: tuple[str, ...] = ()
    #: What is broken (agent/tickets/identity.py); ``signature`` records it for the register.
    component: Component = SYSTEM

    @property
    def identity(self) -> str:
        return identity_text(self.rule, self.component)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict: the rule id, its priority and the facts that made it fire."""

    priority: Priority
    rule: str
    summary: str
    evidence: tuple[str, ...] = ()
    #: What is broken; empty for the rules whose component is fixed (identity.FIXED).
    component: Component = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """The getter answers a rule may read, each a list of plain dicts (may be empty).

    ``at`` is when the run started: error-log history is judged relative to it, never to
    the wall clock, so re-classifying an old result gives the same answer.
    """

    cards: tuple[Mapping[str, Any], ...] = ()
    trunks: tuple[Mapping[str, Any], ...] = ()
    extensions: tuple[Mapping[str, Any], ...] = ()
    alarms: tuple[Mapping[str, Any], ...] = ()
    error_log: tuple[Mapping[str, Any], ...] = ()
    operating_mode: Mapping[str, Any] | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    #: Which card types are processors, extension and trunk cards: the run's driver's.
    families: CardFamilies = field(default_factory=lambda: families_for(None))

    @classmethod
    def from_run(cls, run: RunResult) -> Facts:
        mode = run.facts.get("operating_mode")
        return cls(**{name: _records(run.facts.get(name)) for name in _FACT_NAMES},
                   operating_mode=mode if isinstance(mode, Mapping) else None,
                   answers=dict(run.answers), at=run.started_at,
                   families=families_for(run.vendor))

    def recent_entries(self) -> tuple[Mapping[str, Any], ...]:
        """Active alarms, then error-log history from the last ``RECENT_LOG_WINDOW``."""
        history = tuple(e for e in self.error_log
                        if _within(e.get("first_seen"), self.at, RECENT_LOG_WINDOW))
        return self.alarms + history


_FACT_NAMES: Final = ("cards", "trunks", "extensions", "alarms", "error_log")
Rule = Callable[[Facts], "Finding | tuple[Finding, ...] | None"]


def is_priority(value: object) -> TypeGuard[Priority]:
    return isinstance(value, str) and value in PRIORITY_TITLES


def worst(priorities: Iterable[Priority]) -> Priority:
    """The most severe of some priorities (P1 beats P2 beats P3)."""
    return min(priorities, key=PRIORITY_RANK.__getitem__)


def trunk_usable(trunk: Mapping[str, Any]) -> bool:
    """A trunk carries calls only when in service and not busied out (error 330 busies it)."""
    return trunk.get("state") == "in_service" and not trunk.get("busied_out", False)


def non_covered_reason(facts: Facts) -> str | None:
    """Name the power-failure / surge evidence, so support can warn the visit may be chargeable.

    Two sources (SLA.md "Cover"): the caller's front-line answers, and power entries in
    the PBX's log — active alarms always, history only from the last ``POWER_LOOKBACK``.
    """
    reasons = [text for key, text in NON_COVERED_ANSWERS.items()
               if answered_yes(facts.answers.get(key))]
    seen: dict[str, str] = {}
    history = (e for e in facts.error_log
               if _within(e.get("first_seen"), facts.at, POWER_LOOKBACK))
    for entry in (*history, *facts.alarms):
        code = _event(entry)
        if code in POWER_CODES and code not in seen:
            when = entry.get("first_seen")
            seen[code] = f"{POWER_CODES[code]} (#{code}{f' at {when}' if when else ''})"
    reasons += seen.values()
    if not reasons:
        return None
    return "possible non-covered cause: " + "; ".join(reasons)


def answered_yes(value: object) -> bool:
    """A front-line answer of yes: ``True`` or a yes-like word (``"Yes"``, ``"y"``)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _YES


def answered_no(value: object) -> bool:
    """A front-line answer of no (an unanswered question is neither yes nor no)."""
    if isinstance(value, bool):
        return not value
    return isinstance(value, str) and value.strip().lower() in _NO


# --- evidence rules ------------------------------------------------------------------


def processor_down(facts: Facts) -> Finding | None:
    down = [c for c in facts.cards
            if is_processor(c, facts.families) and c.get("status") != "in_service"]
    if not down:
        return None
    lines = tuple(card_line(c) for c in down)
    return Finding("P1", "processor-down", f"processor card {lines[0]}", lines)


def no_working_extension(facts: Facts) -> Finding | None:
    if not facts.extensions:
        return None
    if any(e.get("state") in _WORKING_EXTENSION_STATES for e in facts.extensions):
        return None
    summary = f"none of {len(facts.extensions)} extensions is idle or busy"
    return Finding("P1", "no-working-extension", summary, extension_lines(facts.extensions))


def extension_cards_down(facts: Facts) -> Finding | None:
    """Every extension card out: needs at least one such card, or a partial list would be P1."""
    cards = [c for c in facts.cards if is_extension_card(c, facts.families)]
    if not cards or any(c.get("status") == "in_service" for c in cards):
        return None
    summary = f"all {len(cards)} extension cards out of service"
    return Finding("P1", "extension-cards-down", summary, tuple(card_line(c) for c in cards))


def all_trunks_down(facts: Facts) -> Finding | None:
    if not facts.trunks or any(trunk_usable(t) for t in facts.trunks):
        return None
    cards = tuple(card_line(c) for c in facts.cards
                  if is_trunk_card(c, facts.families) and c.get("status") != "in_service")
    summary = f"no external calls: all {len(facts.trunks)} trunks down"
    return Finding("P2", "all-trunks-down", summary, trunk_lines(facts.trunks) + cards)


def digital_sync_loss(facts: Facts) -> Finding | None:
    """A carrier fault: an active sync alarm while every digital trunk is down."""
    alarms = [a for a in facts.alarms if _event(a) in SYNC_ALARM_CODES]
    digital = [t for t in facts.trunks if t.get("kind") in DIGITAL_TRUNK_KINDS]
    if not alarms or not digital or any(trunk_usable(t) for t in digital):
        return None
    summary = f"digital trunks out of sync: all {len(digital)} digital trunks down"
    lines = tuple(alarm_line(a) for a in alarms) + trunk_lines(digital)
    return Finding("P2", "digital-sync-loss", summary, lines)


def caller_report(facts: Facts) -> Finding | None:
    """The front-line question that separates P1 from P2 (SLA.md "call-out procedure"):
    every extension affected — can they still dial internally?"""
    if str(facts.answers.get("extensions_affected", "")).strip().lower() != "all":
        return None
    internal = facts.answers.get("internal_calls_work")
    if answered_no(internal):
        return Finding("P1", "caller-no-calls", "caller reports no internal or external calls",
                       ("caller: all extensions affected, internal calls fail",))
    if answered_yes(internal):
        return Finding("P2", "caller-no-external-calls",
                       "caller reports internal calls work, external calls fail",
                       ("caller: all extensions affected, internal calls work",))
    return None


def extension_card_down(facts: Facts) -> tuple[Finding, ...] | None:
    """Some extension cards out (not all): a block of extensions dead, the rest working."""
    cards = [c for c in facts.cards if is_extension_card(c, facts.families)]
    down = [c for c in cards if c.get("status") != "in_service"]
    if not down or len(down) == len(cards):
        return None
    summary = f"{len(down)} of {len(cards)} extension cards out of service"
    findings = []
    for card in down:  # one finding per dead card: each is its own fault
        slot = location(card).get("slot")
        dead = [e for e in facts.extensions if location(e).get("slot") == slot]
        findings.append(Finding("P3", "extension-card-down", summary,
                                (card_line(card), *extension_lines(dead)),
                                ("extensions", *where(card, card_only=True))))
    return tuple(findings)


def trunks_down(facts: Facts) -> tuple[Finding, ...] | None:
    """Some trunks unusable while others still carry calls (one dead or busied-out line)."""
    down = [t for t in facts.trunks if not trunk_usable(t)]
    if not down or len(down) == len(facts.trunks):
        return None
    summary = f"{len(down)} of {len(facts.trunks)} trunks down"
    return _per_card("trunks-down", summary, "trunks", down, trunk_lines)


def extensions_down(facts: Facts) -> tuple[Finding, ...] | None:
    """Some extensions faulty or out of service (not-connected ports are not faults)."""
    broken = [e for e in facts.extensions if e.get("state") in _BROKEN_EXTENSION_STATES]
    if not broken or len(broken) == len(facts.extensions):
        return None
    summary = f"{len(broken)} of {len(facts.extensions)} extensions out of order"
    return _per_card("extensions-down", summary, "extensions", broken, extension_lines)


def _per_card(rule: str, summary: str, domain: str, records: Sequence[Mapping[str, Any]],
              lines: Callable[[Iterable[Mapping[str, Any]]], tuple[str, ...]]
              ) -> tuple[Finding, ...]:
    """One finding per card: the card when several of its ports are down, the port when
    one is (a second one failing later widens that ticket to the card)."""
    by_card: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for record in records:
        by_card.setdefault(where(record, card_only=True), []).append(record)
    findings = []
    for card, group in by_card.items():
        place = where(group[0]) if len(group) == 1 else card
        findings.append(Finding("P3", rule, summary, lines(group), (domain, *place)))
    return tuple(findings)


def card_down(facts: Facts) -> tuple[Finding, ...] | None:
    """A card other than the processor or an extension card out (trunk, voicemail, DSP…)."""
    down = [c for c in facts.cards if c.get("status") != "in_service"
            and not is_processor(c, facts.families)
            and not is_extension_card(c, facts.families)]
    if not down:
        return None
    return tuple(
        Finding("P3", "card-down", f"card {card_line(card)}", (card_line(card),),
                ("trunks" if is_trunk_card(card, facts.families) else "cards",
                 *where(card, card_only=True)))
        for card in down)


def night_mode_stuck(facts: Facts) -> Finding | None:
    """Time service switched by hand to Night: callers hear the night service all day.

    Whether it is working hours is the playbook's check to make (it knows the site);
    this rule only names the evidence when that check failed.
    """
    mode = facts.operating_mode
    if not mode or str(mode.get("mode", "")).lower() != "night" or mode.get("automatic", True):
        return None
    return Finding("P3", "night-mode-stuck", "time service left on manual Night",
                   ("time service: Night, manual switching",))


@dataclass(frozen=True, slots=True)
class CodeRule:
    """A P3 finding named by error codes among the active alarms and recent log."""

    rule: str
    codes: frozenset[str]
    summary: str

    def __call__(self, facts: Facts) -> Finding | None:
        hits = [e for e in facts.recent_entries() if _event(e) in self.codes]
        if not hits:
            return None
        return Finding("P3", self.rule, self.summary,
                       tuple(dict.fromkeys(alarm_line(e) for e in hits)))


#: One per simulator fault scenario whose evidence is only an alarm (DOMAIN.md).
CODE_RULES: Final[tuple[CodeRule, ...]] = (
    CodeRule("digital-trunk-alarm", SYNC_ALARM_CODES, "digital trunk alarm"),
    CodeRule("power-alarm", frozenset({"010", "011"}), "power supply alarm"),
    CodeRule("battery-low", frozenset({"012"}), "RAM backup battery low"),
    CodeRule("fan-alarm", frozenset({"014", "042"}), "fan alarm"),
    CodeRule("clock-sync", frozenset({"234", "235", "392"}), "clock synchronisation problem"),
    CodeRule("voicemail-card", frozenset({"216", "217", "310"}), "voicemail card error"),
    CodeRule("smdr-link", frozenset({"510"}), "call logger (SMDR) link lost"),
    CodeRule("system-restart", frozenset({"000", "001", "002"}), "system restarted"),
)

#: Worst first; within a priority the earlier rule names the ticket.
EVIDENCE_RULES: Final[tuple[Rule, ...]] = (
    processor_down,
    no_working_extension,
    extension_cards_down,
    all_trunks_down,
    digital_sync_loss,
    caller_report,
    extension_card_down,
    trunks_down,
    extensions_down,
    card_down,
    night_mode_stuck,
    *CODE_RULES,
)


def hint_findings(failed: Sequence[StepResult]) -> list[Finding]:
    """A failed step's ``on_failure.priority`` is the playbook author's verdict: it counts."""
    findings = []
    for step in failed:
        hint = step.on_failure
        if hint is None or not is_priority(hint.priority):
            continue
        summary = hint.summary or f"check '{step.name}' failed"
        findings.append(Finding(hint.priority, f"hint:{step.name}", summary, (step_line(step),)))
    return findings


def _failed_check_finding(failed: Sequence[StepResult]) -> Finding:
    names = ", ".join(step.name for step in failed)
    noun = "check" if len(failed) == 1 else "checks"
    return Finding("P3", "failed-check", f"{len(failed)} {noun} failed: {names}",
                   tuple(step_line(s) for s in failed))


# --- evidence lines ------------------------------------------------------------------


def card_line(card: Mapping[str, Any]) -> str:
    """``LCOT8 fault (cab 1 slot 03)``."""
    return f"{card.get('type', '?')} {_words(card.get('status'))} ({_where(card)})"


def alarm_line(alarm: Mapping[str, Any]) -> str:
    """``MJ ALM #230 10300 Card disconnected`` — the PBX's own wording, codes kept."""
    level = "MJ" if alarm.get("level") == "major" else "MN"
    parts = [f"{level} ALM #{_code(alarm)}", str(alarm.get("sub_code") or ""),
             str(alarm.get("message") or "")]
    return " ".join(p for p in parts if p)


def step_line(step: StepResult) -> str:
    detail = step.message or "; ".join(step.failed_expectations)
    return f"check '{step.name}' {step.status.value}" + (f": {detail}" if detail else "")


def trunk_lines(trunks: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """Unusable trunks grouped per card and state: ``CO 01–08 fault (cab 1 slot 03)``."""
    groups: dict[tuple[str, str], list[str]] = {}
    for trunk in trunks:
        if trunk_usable(trunk):
            continue
        state = "busied out" if trunk.get("busied_out") else _words(trunk.get("state"))
        number = trunk.get("number")
        label = f"{number:02d}" if isinstance(number, int) else str(number)
        groups.setdefault((state, _where(trunk, card_only=True)), []).append(label)
    return tuple(f"CO {_ranges(nums)} {state} ({where})"
                 for (state, where), nums in groups.items())


def extension_lines(extensions: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """Extensions grouped per card and state: ``EXT 201–216 fault (cab 1 slot 01)``."""
    groups: dict[tuple[str, str], list[str]] = {}
    for ext in extensions:
        key = (_words(ext.get("state")), _where(ext, card_only=True))
        groups.setdefault(key, []).append(str(ext.get("number", "?")))
    return tuple(f"EXT {_ranges(nums)} {state} ({where})"
                 for (state, where), nums in groups.items())


# --- helpers -------------------------------------------------------------------------


def _records(value: object) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(item for item in value if isinstance(item, Mapping))


def _where(record: Mapping[str, Any], *, card_only: bool = False) -> str:
    """``cab 1 slot 03 port 02``, as ``drivers.model.Location`` prints it."""
    loc = location(record)
    parts = [f"cab {loc.get('cabinet', '?')}"]
    for level in ("slot",) if card_only else ("slot", "port"):
        value = loc.get(level)
        if isinstance(value, int):
            parts.append(f"{level} {value:02d}")
    return " ".join(parts)


def _within(seen: object, at: datetime | None, window: timedelta) -> bool:
    """Was an entry logged within ``window`` before ``at``? Undated or unknown: yes.

    PBX clocks are naive local time; the comparison is naive too, which is right to
    within the UTC offset — nothing at the scale of these windows.
    """
    if at is None or seen is None:
        return True
    try:
        when = seen if isinstance(seen, datetime) else datetime.fromisoformat(str(seen))
    except ValueError:
        return True
    return _naive(at) - _naive(when) <= window


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _code(entry: Mapping[str, Any]) -> str:
    code = str(entry.get("code", "")).strip()
    return code.zfill(3) if code.isdigit() else code


def _event(entry: Mapping[str, Any]) -> str:
    """The vendor-neutral event number the rules compare (``drivers.recovery.event``)."""
    return event(_code(entry))


def _words(state: object) -> str:
    return str(state or "unknown").replace("_", " ")


def _ranges(labels: Sequence[str]) -> str:
    """``01, 02, 03, 05`` -> ``01–03, 05``; non-numeric labels are listed as they are."""
    numeric = sorted({s for s in labels if s.isdigit()}, key=int)
    others = [s for s in dict.fromkeys(labels) if not s.isdigit()]
    runs: list[list[str]] = []
    for label in numeric:
        if runs and int(label) == int(runs[-1][-1]) + 1:
            runs[-1].append(label)
        else:
            runs.append([label])
    shown = [r[0] if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs]
    return ", ".join(shown + others)
