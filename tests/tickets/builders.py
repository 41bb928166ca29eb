"""RunResults whose facts look like what the Panasonic driver reports for each simulator
scenario (simulators/scenarios/*.yaml and the fault kinds in simulators/state.py), built
from the real ``drivers.model`` types and serialised with ``to_jsonable`` as the playbook
engine does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.result import FailureHint, RunResult, RunStatus, StepResult, StepStatus
from drivers.model import (
    Alarm,
    AlarmLevel,
    Card,
    CardStatus,
    Extension,
    ExtensionState,
    Location,
    OperatingMode,
    Trunk,
    TrunkKind,
    TrunkState,
    to_jsonable,
)

RUN_AT = datetime(2026, 4, 24, 16, 25, tzinfo=UTC)  # Friday 17:25 BST
PBX_NOW = datetime(2026, 4, 24, 17, 25)  # the PBX clock: naive local time

# The health-check playbook's steps and hints (playbooks/health-check.yaml).
HINTS: dict[str, tuple[str, str]] = {
    "No major alarm active": ("P3", "A major alarm is active in the error log"),
    "Every card in service": ("P3", "A card is out of service or not answering the processor"),
    "External calls possible": ("P2", "No CO line is in service, so no external call can be made"),
    "Every CO line in service": ("P3", "A CO line is out of service"),
    "Internal calls possible": ("P1", "No extension is working, so no internal call can be made"),
}


def step(name: str, status: StepStatus = StepStatus.FAILED, *, message: str = "",
         hint: tuple[str, str] | None = None, started_at: datetime | None = None,
         duration_s: float = 0.0, action: str = "get") -> StepResult:
    priority, summary = hint or HINTS.get(name, (None, None))  # type: ignore[arg-type]
    on_failure = FailureHint(priority, summary) if priority or summary else None
    return StepResult(name=name, status=status, message=message, on_failure=on_failure,
                      started_at=started_at, duration_s=duration_s, action=action)


def card(slot: int, type_: str, status: CardStatus = CardStatus.IN_SERVICE) -> Card:
    return Card(Location(1, slot), type_, "KX-TDA0000", "1.0000", status)


def co(number: int, *, slot: int = 3, kind: TrunkKind = TrunkKind.ANALOGUE,
       state: TrunkState = TrunkState.IN_SERVICE, busied_out: bool = False) -> Trunk:
    return Trunk(number, Location(1, slot, number if slot == 3 else number - 8), kind, state,
                 busied_out)


def ext(number: int, state: ExtensionState = ExtensionState.IDLE, *, slot: int = 1) -> Extension:
    port = number - 200 if slot == 1 else number - 216
    return Extension(str(number), "", Location(1, slot, port), "DPT" if slot == 1 else "SLT",
                     state)


def entry(code: str, sub: str, message: str, *, major: bool = False,
          ago: timedelta = timedelta(minutes=5)) -> Alarm:
    level = AlarmLevel.MAJOR if major else AlarmLevel.MINOR
    return Alarm(level, code, sub, Location(int(sub[0])), message, PBX_NOW - ago,
                 raw=f"{'MJ' if major else 'MN'} ALM #{code} 00 {sub} {message}")


#: The harmless history every shipped scenario carries (a 95-day-old restart among it).
OLD_HISTORY = [
    entry("002", "10000", "System Restart", major=True, ago=timedelta(days=95, hours=6)),
    entry("330", "10305", "Loop current detection error", ago=timedelta(days=31, hours=3)),
    entry("510", "10000", "SMDR disconnect", ago=timedelta(days=12, hours=1)),
]


@dataclass
class Site:
    """The healthy KX-TDE200 of panasonic-healthy.yaml, to be broken by a scenario."""

    cards: list[Card] = field(default_factory=lambda: [
        card(0, "IPCMPR"), card(1, "DLC16"), card(2, "SLC8"), card(3, "LCOT8")])
    trunks: list[Trunk] = field(default_factory=lambda: [co(n) for n in range(1, 9)])
    extensions: list[Extension] = field(default_factory=lambda: [
        *(ext(n) for n in range(201, 216)), ext(216, ExtensionState.NOT_CONNECTED),
        *(ext(n, slot=2) for n in range(217, 223)),
        ext(223, ExtensionState.NOT_CONNECTED, slot=2),
        ext(224, ExtensionState.NOT_CONNECTED, slot=2)])
    alarms: list[Alarm] = field(default_factory=list)
    error_log: list[Alarm] = field(default_factory=lambda: list(OLD_HISTORY))
    mode: OperatingMode = field(default_factory=lambda: OperatingMode("day", True))

    def facts(self) -> dict[str, Any]:
        return {"cards": to_jsonable(self.cards), "trunks": to_jsonable(self.trunks),
                "extensions": to_jsonable(self.extensions), "alarms": to_jsonable(self.alarms),
                "error_log": to_jsonable(self.error_log),
                "operating_mode": to_jsonable(self.mode)}


def run(site: Site, *steps: StepResult, status: RunStatus | None = None,
        run_id: str = "run-1", answers: dict[str, Any] | None = None,
        transcript: str | None = None, at: datetime = RUN_AT) -> RunResult:
    failed = any(s.status in (StepStatus.FAILED, StepStatus.ERROR) for s in steps)
    chosen = status or (RunStatus.FAILED if failed else RunStatus.PASSED)
    return RunResult(run_id=run_id, site="acme-bolton", playbook="Health check",
                     started_at=at, finished_at=at + timedelta(seconds=3), status=chosen,
                     steps=list(steps), facts=site.facts(), answers=dict(answers or {}),
                     transcript=transcript)


# --- the scenarios ------------------------------------------------------------------


def healthy() -> RunResult:
    return run(Site(), *(step(name, StepStatus.OK) for name in HINTS))


def dead_trunk_card() -> RunResult:
    """panasonic-dead-trunk-card.yaml: LCOT8 in slot 03 dead, 230 active, CO 01–08 FLT."""
    site = Site()
    site.cards[3] = card(3, "LCOT8", CardStatus.FAULT)
    site.trunks = [co(n, state=TrunkState.FAULT) for n in range(1, 9)]
    site.alarms = [entry("230", "10300", "Card disconnected", major=True)]
    return run(site, step("No major alarm active"), step("Every card in service"),
               step("External calls possible"), step("Every CO line in service"))


def digital_trunks_down(*, analogue_backup: bool) -> RunResult:
    """digital_trunk_out_of_sync on a PRI30 in slot 04: 300 active, its lines FLT."""
    site = Site()
    site.cards.append(card(4, "PRI30"))
    pri = [co(n, slot=4, kind=TrunkKind.PRI, state=TrunkState.FAULT) for n in range(9, 39)]
    site.trunks = [*site.trunks, *pri] if analogue_backup else pri
    site.alarms = [entry("300", "10400", "Digital trunk out of sync", major=True)]
    steps = [step("No major alarm active"), step("Every CO line in service")]
    if not analogue_backup:
        steps.append(step("External calls possible"))
    return run(site, *steps)


def analogue_trunks_busied_out() -> RunResult:
    """trunk_busied_out on every CO line: repeated 330, every line OUS."""
    site = Site()
    site.trunks = [co(n, state=TrunkState.OUT_OF_SERVICE, busied_out=True) for n in range(1, 9)]
    site.alarms = [entry("330", f"103{n:02d}", "Loop current detection error")
                   for n in range(1, 9)]
    return run(site, step("External calls possible"), step("Every CO line in service"))


def one_trunk_dead() -> RunResult:
    site = Site()
    site.trunks[2] = co(3, state=TrunkState.OUT_OF_SERVICE, busied_out=True)
    site.alarms = [entry("330", "10303", "Loop current detection error")]
    return run(site, step("Every CO line in service"))


def extension_card_failure() -> RunResult:
    """dead_card on the DLC16 in slot 01: 230, extensions 201–216 FLT."""
    site = Site()
    site.cards[1] = card(1, "DLC16", CardStatus.FAULT)
    site.extensions = [*(ext(n, ExtensionState.FAULT) for n in range(201, 217)),
                       *site.extensions[16:]]
    site.alarms = [entry("230", "10100", "Card disconnected", major=True)]
    return run(site, step("No major alarm active"), step("Every card in service"))


def processor_failure() -> RunResult:
    """Total system failure: the MPR faulty, every card and port with it."""
    site = Site()
    site.cards = [card(0, "IPCMPR", CardStatus.FAULT), card(1, "DLC16", CardStatus.FAULT),
                  card(2, "SLC8", CardStatus.FAULT), card(3, "LCOT8", CardStatus.FAULT)]
    site.trunks = [co(n, state=TrunkState.FAULT) for n in range(1, 9)]
    site.extensions = [ext(n, ExtensionState.FAULT) for n in range(201, 209)]
    site.alarms = [entry("000", "10000", "MPR WDT overflow", major=True)]
    return run(site, *(step(name) for name in HINTS))


def all_extension_cards_down() -> RunResult:
    """Total system failure with a live processor: no internal call possible."""
    site = Site()
    site.cards[1] = card(1, "DLC16", CardStatus.FAULT)
    site.cards[2] = card(2, "SLC8", CardStatus.FAULT)
    site.extensions = [ext(n, ExtensionState.FAULT) for n in range(201, 217)]
    return run(site, step("Every card in service"), step("Internal calls possible"))


def pbx_dead() -> RunResult:
    """No answer on any path: the runner records no step, so nothing was diagnosed."""
    return RunResult(run_id="run-1", site="acme-bolton", playbook="Health check",
                     started_at=RUN_AT, status=RunStatus.UNREACHABLE,
                     error="no path reached the PBX")


def alarm_only(code: str, message: str, *, major: bool = False) -> RunResult:
    """Power, battery, fan, clock, voicemail: an alarm and nothing else changes state."""
    site = Site()
    site.alarms = [entry(code, "10000", message, major=major)]
    return run(site, step("No major alarm active" if major else "No minor alarm active",
                          hint=("P3", "An alarm is active")))


def restart_after_power_cut(answers: dict[str, Any] | None = None) -> RunResult:
    site = Site()
    site.error_log.append(entry("002", "10000", "System Restart", major=True,
                                ago=timedelta(hours=2)))
    return run(site, step("No restart since yesterday", hint=("P3", "The PBX restarted")),
               answers=answers)


def stuck_in_night_mode() -> RunResult:
    site = Site()
    site.mode = OperatingMode("night", automatic=False)
    return run(site, step("Day mode in working hours", hint=("P3", "Night service by day")))


def smdr_link_lost() -> RunResult:
    site = Site()
    site.error_log += [entry("510", "10000", "SMDR disconnect", ago=timedelta(hours=h))
                       for h in (6, 4, 2)]
    site.alarms = [entry("510", "10000", "SMDR disconnect")]
    return run(site, step("Call logger connected", hint=("P3", "SMDR link down")))


def dead_trunk_card_with(answers: dict[str, Any]) -> RunResult:
    result = dead_trunk_card()
    result.answers = dict(answers)
    return result
