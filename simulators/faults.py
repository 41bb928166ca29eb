"""The fault catalogue: each kind breaks the state the way the real PBX breaks.

A fault logs what the PBX would log (canonical codes, sub codes on the right slot and
port), changes the ports it takes down, and remembers what it changed so ``clear_fault``
reverses exactly that — with the recovery code (390/391/393) where the PBX has one.
Specs run with the state's lock held (``PbxState.inject_fault`` / ``clear_fault``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from simulators.models import CARD_TYPES, EVENTS
from simulators.records import CoLine, Fault, FaultError, Level, Mode, TimeService, sub_code
from simulators.state import UNRELIABLE, PbxState

EXTERNAL_PROGRAMMER = "handset"
CARD_FAILURE_CODES = frozenset({*range(200, 208), 230, 231})


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A fault kind: its parameters (name -> default, ``None`` = required) and its effects."""

    kind: str
    params: dict[str, Any]
    apply: Callable[[PbxState, Fault], None]
    revert: Callable[[PbxState, Fault], None]
    help: str

    def normalise(self, given: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise FaultError(f"fault {self.kind} has no parameter {', '.join(unknown)}"
                             f" (parameters: {', '.join(self.params) or 'none'})")
        full = {name: given.get(name, default) for name, default in self.params.items()}
        missing = [name for name, value in full.items() if value is None]
        if missing:
            raise FaultError(f"fault {self.kind} needs {', '.join(missing)}")
        for name, value in full.items():
            expected = type(self.params[name]) if self.params[name] is not None else int
            if type(value) is not expected:
                raise FaultError(f"fault {self.kind}: {name} must be {expected.__name__}")
        return full


def _event(pbx: PbxState, fault: Fault, code: int, sub: str, *, active: bool = True) -> None:
    """Log canonical event ``code`` with its usual level and message."""
    event = EVENTS[code]
    level = Level.MJ if event.major else Level.MN
    if active:
        pbx.raise_alarm(fault, level, code, sub, event.message)
    else:
        pbx.log_error(level, code, sub, event.message)


def _place(fault: Fault) -> tuple[int, int]:
    return fault.params["cabinet"], fault.params["slot"]


# --- cards --------------------------------------------------------------------------------


def _dead_card(pbx: PbxState, fault: Fault) -> None:
    cab, slot = _place(fault)
    code = fault.params["code"]
    if code not in CARD_FAILURE_CODES:
        raise FaultError("a dead card logs 200-207, 230 or 231, not "
                         f"{code:03d}")
    card = pbx.card(slot, cab)
    if card.kind.role == "cpu":
        raise FaultError("the processor cannot be a dead card: use processor_failure")
    if card.faulty:
        raise FaultError(f"card in slot {slot:02d} is already faulty")
    pbx.set_card_faulty(cab, slot, True)
    _event(pbx, fault, code, sub_code(cab, slot))


def _card_back(pbx: PbxState, fault: Fault) -> None:
    cab, slot = _place(fault)
    pbx.set_card_faulty(cab, slot, False)


def _voicemail_failure(pbx: PbxState, fault: Fault) -> None:
    cab, slot = _place(fault)
    code = fault.params["code"]
    if code not in (216, 217):
        raise FaultError(f"a voicemail card logs 216 or 217, not {code:03d}")
    card = pbx.card(slot, cab)
    if card.kind.role != "other" or not card.kind.ports:
        raise FaultError(f"slot {slot:02d} holds {card.card_type}, not a voicemail card")
    if card.faulty:
        raise FaultError(f"card in slot {slot:02d} is already faulty")
    pbx.set_card_faulty(cab, slot, True)
    _event(pbx, fault, code, sub_code(cab, slot))
    for port in range(1, card.kind.ports + 1):
        _event(pbx, fault, 310, sub_code(cab, slot, port))


# --- trunks -------------------------------------------------------------------------------


def _trunk_busied_out(pbx: PbxState, fault: Fault) -> None:
    line = pbx.co_line(fault.params["co"])
    if line.auto_busied:
        raise FaultError(f"CO line {line.number:02d} is already busied out after error 330")
    if line.kind != "LCOT":
        raise FaultError(f"CO line {line.number:02d} is {line.kind}: only analogue lines "
                         "lose loop current")
    pbx.set_co_condition(line.number, auto_busied=True)
    _event(pbx, fault, 330, sub_code(line.cabinet, line.slot, line.port))


def _trunk_busied_out_revert(pbx: PbxState, fault: Fault) -> None:
    pbx.set_co_condition(fault.params["co"], auto_busied=False)


def _digital_lines(pbx: PbxState, fault: Fault) -> list[CoLine]:
    cab, slot = _place(fault)
    card = pbx.card(slot, cab)
    if not CARD_TYPES[card.card_type].digital:
        raise FaultError(f"slot {slot:02d} holds {card.card_type}, not a digital trunk card")
    return [x for x in pbx.co_lines() if (x.cabinet, x.slot) == (cab, slot)]


def _lines_down(code: int) -> Callable[[PbxState, Fault], None]:
    """A digital card loses sync (300) or its data link (305): every line on it is FLT."""
    def apply(pbx: PbxState, fault: Fault) -> None:
        for line in _digital_lines(pbx, fault):
            pbx.set_co_condition(line.number, line_fault=True)
        _event(pbx, fault, code, sub_code(*_place(fault)))
    return apply


def _lines_up(recovery: int) -> Callable[[PbxState, Fault], None]:
    def revert(pbx: PbxState, fault: Fault) -> None:
        for line in _digital_lines(pbx, fault):
            pbx.set_co_condition(line.number, line_fault=False)
        _event(pbx, fault, recovery, sub_code(*_place(fault)), active=False)
    return revert


def _clock_failure(pbx: PbxState, fault: Fault) -> None:
    """The clock master (a digital trunk card) fails its DPLL: 234, then 392 for the new one."""
    cab, slot = _place(fault)
    _digital_lines(pbx, fault)
    _event(pbx, fault, 234, sub_code(cab, slot))
    others = [c for c in pbx.cards() if c.kind.digital and not c.faulty
              and (c.cabinet, c.slot) != (cab, slot)]
    master = sub_code(others[0].cabinet, others[0].slot) if others else sub_code(1)
    _event(pbx, fault, 392, master, active=False)


# --- system -------------------------------------------------------------------------------


def _system_alarm(code: int, *, per_cabinet: bool = False) -> Callable[[PbxState, Fault], None]:
    """A fault that is only an alarm (battery, fan, SMDR link): no port changes state."""
    def apply(pbx: PbxState, fault: Fault) -> None:
        cab = fault.params["cabinet"] if per_cabinet else 1
        _event(pbx, fault, code, sub_code(cab))
    return apply


def _recovery_alarm(code: int) -> Callable[[PbxState, Fault], None]:
    def revert(pbx: PbxState, fault: Fault) -> None:
        _event(pbx, fault, code, sub_code(1), active=False)
    return revert


def _no_op(pbx: PbxState, fault: Fault) -> None:
    """Clearing only deactivates the fault's log entries (done by ``clear_fault``)."""


def _restart(pbx: PbxState, fault: Fault) -> None:
    _event(pbx, fault, 2, sub_code(1), active=False)


def _processor_failure(pbx: PbxState, fault: Fault) -> None:
    code = fault.params["code"]
    if code not in (0, 1):
        raise FaultError(f"a processor failure logs 000 or 001, not {code:03d}")
    if not pbx.responding:
        raise FaultError("the processor is already dead")
    _event(pbx, fault, code, sub_code(1))
    pbx.set_responding(False)


def _processor_back(pbx: PbxState, fault: Fault) -> None:
    pbx.set_responding(True)
    _restart(pbx, fault)


def _system_failure(pbx: PbxState, fault: Fault) -> None:
    """The processor runs but reaches no card: every extension and trunk card is FLT."""
    _event(pbx, fault, 1, sub_code(1))
    failed = []
    for card in pbx.cards():
        if card.kind.role in ("extension", "trunk") and not card.faulty:
            pbx.set_card_faulty(card.cabinet, card.slot, True)
            _event(pbx, fault, 232, sub_code(card.cabinet, card.slot))
            failed.append((card.cabinet, card.slot))
    fault.saved = failed


def _system_failure_revert(pbx: PbxState, fault: Fault) -> None:
    for cab, slot in fault.saved:
        pbx.set_card_faulty(cab, slot, False)
    _restart(pbx, fault)


def _power_cut(pbx: PbxState, fault: Fault) -> None:
    """Mains lost for ``minutes``, then the restart: 010 then 002, and a gap in SMDR."""
    minutes = fault.params["minutes"]
    if not 1 <= minutes <= 7 * 24 * 60:
        raise FaultError("a power cut lasts 1 minute to 7 days")
    end = pbx.now()
    start = end - timedelta(minutes=minutes)
    pbx.add_outage(start, end)
    event = EVENTS[10]
    pbx.log_error(Level.MJ, 10, sub_code(1), event.message, when=start)
    _event(pbx, fault, 2, sub_code(1))


def _night_mode(pbx: PbxState, fault: Fault) -> None:
    fault.saved = pbx.time_service
    pbx.set_time_service(Mode.NIGHT, automatic=False)


def _night_mode_revert(pbx: PbxState, fault: Fault) -> None:
    saved: TimeService = fault.saved
    pbx.set_time_service(saved.mode, automatic=saved.automatic)


def _programming_locked(pbx: PbxState, fault: Fault) -> None:
    holder = f"{EXTERNAL_PROGRAMMER}:{fault.params['holder']}"
    if not pbx.acquire_programming(holder):
        raise FaultError("system programming is already held by a session")
    fault.saved = holder


def _programming_locked_revert(pbx: PbxState, fault: Fault) -> None:
    pbx.release_programming(fault.saved)


def _programming_unreliable(pbx: PbxState, fault: Fault) -> None:
    """Flaky NVRAM: ``PbxState.program_write`` counts the writes it spoils in ``saved``."""
    if fault.params["mode"] not in UNRELIABLE_MODES:
        raise FaultError(f"programming_unreliable mode is {' or '.join(UNRELIABLE_MODES)}, "
                         f"not {fault.params['mode']!r}")
    if fault.params["writes"] < 0:
        raise FaultError("programming_unreliable writes is 0 (every write) or more")
    fault.saved = 0


UNRELIABLE_MODES = ("ignore", "corrupt")
GARBLED = "garbled_reply"
_GARBLED_LIMIT = 4096


def _garbled_reply(pbx: PbxState, fault: Fault) -> None:
    """A reply the console prints wrong (a clock of ``25:61:00``, a trunk state ``IN5``):
    the console answers ``command`` with ``reply``; nothing else changes."""
    command, reply = fault.params["command"], fault.params["reply"]
    if not command.split():
        raise FaultError("garbled_reply needs the command it garbles (e.g. 'READ 000')")
    if not reply or len(reply) > _GARBLED_LIMIT:
        raise FaultError(f"garbled_reply needs a reply of 1–{_GARBLED_LIMIT} characters")


def garbled(pbx: PbxState, typed: str) -> list[str] | None:
    """The lines a ``garbled_reply`` fault prints instead of the answer to ``typed`` (the
    command compared word by word, case-insensitively), or None when none applies. With
    ``after: N`` the first N times the command is typed are answered truly (a read-back
    after a write garbled, the read before it not)."""
    words = typed.upper().split()
    for fault in pbx.active_faults():
        if fault.kind == GARBLED and fault.params["command"].upper().split() == words:
            if pbx.count_use(GARBLED, typed) < int(fault.params.get("after") or 0):
                return None
            lines: list[str] = fault.params["reply"].split("\n")
            return lines
    return None
_CARD = {"slot": None, "cabinet": 1}

FAULTS: dict[str, FaultSpec] = {spec.kind: spec for spec in (
    FaultSpec("dead_card", {**_CARD, "code": 230}, _dead_card, _card_back,
              "a card stops answering: 230 (or 231, 200-207), its ports go FLT"),
    FaultSpec("voicemail_failure", {**_CARD, "code": 216}, _voicemail_failure, _card_back,
              "the voicemail (MSG) card fails: 216/217, then 310 on each of its ports"),
    FaultSpec("trunk_busied_out", {"co": None}, _trunk_busied_out, _trunk_busied_out_revert,
              "an analogue CO line loses loop current: 330, the line is busied out"),
    FaultSpec("digital_trunk_out_of_sync", dict(_CARD), _lines_down(300), _lines_up(390),
              "a PRI/BRI/E1/T1 card loses sync: 300, lines FLT; 390 on clear"),
    FaultSpec("data_link_failure", dict(_CARD), _lines_down(305), _lines_up(391),
              "a PRI/BRI card loses its D channel: 305, lines FLT; 391 on clear"),
    FaultSpec("clock_failure", dict(_CARD), _clock_failure, _no_op,
              "the clock master card's DPLL fails: 234, then 392 for the new master"),
    FaultSpec("lan_no_carrier", {}, _system_alarm(307), _recovery_alarm(393),
              "the processor's LAN port loses carrier: 307; 393 on clear"),
    FaultSpec("smdr_disconnect", {}, _system_alarm(510), _no_op,
              "the call logger link is lost: 510 (the SMDR server drops clients)"),
    FaultSpec("ram_battery_low", {}, _system_alarm(12), _no_op,
              "the processor's backup battery is low: 012"),
    FaultSpec("ac_power_down", {}, _system_alarm(10), _no_op, "mains power lost: 010"),
    FaultSpec("dc_power_down", {}, _system_alarm(11), _no_op, "the PSU's DC output lost: 011"),
    FaultSpec("fan_alarm", {"cabinet": 1}, _system_alarm(14, per_cabinet=True), _no_op,
              "a cabinet fan stopped: 014"),
    FaultSpec("shelf_fan_alarm", {"cabinet": 1}, _system_alarm(42, per_cabinet=True), _no_op,
              "a shelf fan stopped: 042"),
    FaultSpec("power_cut", {"minutes": 30}, _power_cut, _no_op,
              "mains lost for a while, then a restart: 010, 002, a gap in SMDR"),
    FaultSpec("processor_failure", {"code": 0}, _processor_failure, _processor_back,
              "the processor dies (000/001): nothing answers; 002 on clear"),
    FaultSpec("system_failure", {}, _system_failure, _system_failure_revert,
              "processor fault (001), every extension and trunk card FLT (232); 002 on clear"),
    FaultSpec("stuck_night_mode", {}, _night_mode, _night_mode_revert,
              "time service left on manual Night"),
    FaultSpec("programming_locked", {"holder": "201"}, _programming_locked,
              _programming_locked_revert, "a handset holds system programming"),
    FaultSpec(UNRELIABLE, {"mode": "ignore", "writes": 0}, _programming_unreliable, _no_op,
              "flaky NVRAM: a WRITE/PUT is answered OK but the old value stays (ignore) or "
              "the value loses its last character (corrupt); writes: the first N, 0 = all"),
    FaultSpec(GARBLED, {"command": "", "reply": "", "after": 0}, _garbled_reply, _no_op,
              "the console answers one command with the given text (a garbled reply; "
              "lines split at \\n), after doing what the command does"),
)}


def fault_spec(kind: str) -> FaultSpec:
    try:
        return FAULTS[kind]
    except KeyError:
        raise FaultError(f"unknown fault kind {kind!r} (known: {', '.join(FAULTS)})") from None
