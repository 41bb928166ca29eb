"""One PBX's state, shared by every console session of a simulator.

Vendor dialects only *render* this state; every change goes through a method here so the
cards, ports, error log and alarms always tell the same story (a dead card also takes
its CO lines and extensions down and leaves a 230 in the log). All records handed out are
frozen: a session can render them without holding the lock while a fault is injected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class StateError(ValueError):
    """The requested change would make the state inconsistent (duplicate port, no card...)."""


class FaultError(StateError):
    """A fault cannot be injected or cleared (bad parameters, nothing to act on)."""


class Status(StrEnum):
    """In service / out of service (busied out) / fault — for cards and CO lines."""

    INS = "INS"
    OUS = "OUS"
    FLT = "FLT"


class Level(StrEnum):
    """MJ affects the whole system, MN part of it (Panasonic's error-log levels)."""

    MJ = "MJ"
    MN = "MN"


class Mode(StrEnum):
    DAY = "DAY"
    NIGHT = "NIGHT"
    LUNCH = "LUNCH"
    BREAK = "BREAK"
    HOLIDAY = "HOLIDAY"


EXTENSION_TYPES = frozenset({"DPT", "APT", "SLT", "IPPT"})
EXTENSION_ACTIVITIES = frozenset({"IDLE", "BUSY", "NC"})
CO_KINDS = frozenset({"LCOT", "BRI", "PRI", "SIP"})


@dataclass(frozen=True, slots=True)
class CardType:
    """What a card is for and how many ports it has (from the KX-TDA card list)."""

    role: str  # "cpu", "extension", "trunk", "other"
    ports: int
    digital: bool = False


CARD_TYPES: dict[str, CardType] = {
    "MPR": CardType("cpu", 0), "IPCMPR": CardType("cpu", 0), "MEC": CardType("other", 0),
    "RMT": CardType("other", 0),
    "LCOT4": CardType("trunk", 4), "LCOT8": CardType("trunk", 8),
    "LCOT16": CardType("trunk", 16), "DID8": CardType("trunk", 8), "E&M8": CardType("trunk", 8),
    "T1": CardType("trunk", 24, True), "E1": CardType("trunk", 30, True),
    "BRI4": CardType("trunk", 8, True), "BRI8": CardType("trunk", 16, True),
    "PRI30": CardType("trunk", 30, True),
    "IP-GW4": CardType("trunk", 4), "IP-GW16": CardType("trunk", 16),
    "DHLC8": CardType("extension", 8), "DLC8": CardType("extension", 8),
    "DLC16": CardType("extension", 16), "SLC8": CardType("extension", 8),
    "SLC16": CardType("extension", 16), "MSLC16": CardType("extension", 16),
    "CSIF4": CardType("extension", 4), "CSIF8": CardType("extension", 8),
    "IP-EXT16": CardType("extension", 16),
    "DPH4": CardType("other", 4), "EIO4": CardType("other", 4), "ECHO16": CardType("other", 0),
}


@dataclass(frozen=True, slots=True)
class SystemIdentity:
    vendor: str  # "Panasonic"
    model: str  # "KX-TDE200"
    software_version: str  # the published string, e.g. "PMPR Software File Version 5.0000"
    site_name: str = ""  # the customer site, for the demo and reports; never on the console


@dataclass(frozen=True, slots=True)
class Card:
    cabinet: int
    slot: int
    card_type: str
    model_number: str
    firmware: str
    busied_out: bool = False
    faulty: bool = False

    @property
    def status(self) -> Status:
        if self.faulty:
            return Status.FLT
        return Status.OUS if self.busied_out else Status.INS


@dataclass(frozen=True, slots=True)
class CoLine:
    """A CO line (trunk); its status also depends on its card (kept in ``card_status``)."""

    number: int
    cabinet: int
    slot: int
    port: int
    kind: str
    busied_out: bool = False  # by command
    auto_busied: bool = False  # by the PBX after error 330
    line_fault: bool = False  # no carrier / no sync
    card_status: Status = Status.INS

    @property
    def status(self) -> Status:
        if self.line_fault or self.card_status is Status.FLT:
            return Status.FLT
        if self.busied_out or self.auto_busied or self.card_status is Status.OUS:
            return Status.OUS
        return Status.INS


@dataclass(frozen=True, slots=True)
class Extension:
    number: str
    name: str
    cabinet: int
    slot: int
    port: int
    ext_type: str
    activity: str = "IDLE"  # IDLE / BUSY / NC
    busied_out: bool = False
    card_status: Status = Status.INS

    @property
    def status(self) -> str:
        """IDLE / BUSY / NC, or OUS / FLT when the port or its card is down."""
        if self.card_status is Status.FLT:
            return "FLT"
        if self.busied_out or self.card_status is Status.OUS:
            return "OUS"
        return self.activity


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One error-log line; ``active`` entries are the current alarms."""

    seq: int
    when: datetime
    level: Level
    code: int
    sub_code: str
    message: str
    active: bool = False


@dataclass(frozen=True, slots=True)
class TimeService:
    mode: Mode = Mode.DAY
    automatic: bool = True


@dataclass(slots=True)
class Fault:
    """An injected fault: what it was, and what it changed, so clearing reverses exactly that."""

    kind: str
    params: dict[str, Any]
    log_seqs: list[int] = field(default_factory=list)
    saved: Any = None


# Recovery codes and the failure codes they clear on the same cabinet/slot.
RECOVERIES: dict[int, frozenset[int]] = {
    390: frozenset({300, 301, 302, 303, 304, 306}),
    391: frozenset({305}),
    393: frozenset({307}),
}

EXTERNAL_PROGRAMMER = "handset"


def sub_code(cabinet: int, slot: int | None = None, port: int | None = None) -> str:
    """XYYZZ: cabinet, slot (00 = MPR), port (00 where not applicable)."""
    return f"{cabinet}{slot or 0:02d}{port or 0:02d}"


class PbxState:
    """The whole PBX. Every public method takes ``lock``; many sessions share one instance."""

    def __init__(self, system: SystemIdentity, *,
                 host_clock: Callable[[], datetime] = datetime.now) -> None:
        self.lock = threading.RLock()
        self._system = system
        self._host_clock = host_clock
        self._clock_offset = timedelta()
        self._cards: dict[tuple[int, int], Card] = {}
        self._extensions: dict[str, Extension] = {}
        self._co_lines: dict[int, CoLine] = {}
        self._log: list[LogEntry] = []
        self._next_seq = 1
        self._time_service = TimeService()
        self._faults: list[Fault] = []
        self._programmer: object | None = None

    # --- identity, clock, time service -----------------------------------------------

    @property
    def system(self) -> SystemIdentity:
        return self._system

    def now(self) -> datetime:
        """The PBX's clock: the host clock plus the offset set by ``set_clock``."""
        with self.lock:
            return self._host_clock() + self._clock_offset

    def set_clock(self, when: datetime) -> None:
        with self.lock:
            self._clock_offset = when - self._host_clock()

    @property
    def time_service(self) -> TimeService:
        with self.lock:
            return self._time_service

    def set_time_service(self, mode: Mode, *, automatic: bool) -> None:
        with self.lock:
            self._time_service = TimeService(mode, automatic)

    # --- building the site ------------------------------------------------------------

    def add_card(self, card: Card) -> None:
        with self.lock:
            if card.card_type not in CARD_TYPES:
                raise StateError(f"unknown card type {card.card_type!r}")
            if (card.cabinet, card.slot) in self._cards:
                raise StateError(f"slot {card.cabinet}/{card.slot:02d} already has a card")
            self._cards[(card.cabinet, card.slot)] = card

    def add_extension(self, ext: Extension) -> None:
        with self.lock:
            if ext.number in self._extensions:
                raise StateError(f"extension {ext.number} already exists")
            if ext.ext_type not in EXTENSION_TYPES:
                raise StateError(f"unknown extension type {ext.ext_type!r}")
            if ext.activity not in EXTENSION_ACTIVITIES:
                raise StateError(f"unknown extension activity {ext.activity!r}")
            _check_name(ext.name)
            card = self._port_card(ext.cabinet, ext.slot, ext.port, "extension")
            self._check_port_free(ext.cabinet, ext.slot, ext.port)
            self._extensions[ext.number] = replace(ext, card_status=card.status)

    def add_co_line(self, line: CoLine) -> None:
        with self.lock:
            if line.number in self._co_lines:
                raise StateError(f"CO line {line.number:02d} already exists")
            if line.kind not in CO_KINDS:
                raise StateError(f"unknown CO line kind {line.kind!r}")
            card = self._port_card(line.cabinet, line.slot, line.port, "trunk")
            self._check_port_free(line.cabinet, line.slot, line.port)
            self._co_lines[line.number] = replace(line, card_status=card.status)

    def _port_card(self, cabinet: int, slot: int, port: int, role: str) -> Card:
        card = self._cards.get((cabinet, slot))
        if card is None:
            raise StateError(f"no card in cabinet {cabinet} slot {slot:02d}")
        ctype = CARD_TYPES[card.card_type]
        if ctype.role != role:
            raise StateError(f"slot {slot:02d} holds {card.card_type}, which has no {role} ports")
        if not 1 <= port <= ctype.ports:
            raise StateError(f"{card.card_type} has ports 1-{ctype.ports}, not {port}")
        return card

    def _check_port_free(self, cabinet: int, slot: int, port: int) -> None:
        taken = [(x.cabinet, x.slot, x.port) for x in self._extensions.values()]
        taken += [(x.cabinet, x.slot, x.port) for x in self._co_lines.values()]
        if (cabinet, slot, port) in taken:
            raise StateError(f"port {cabinet}/{slot:02d}/{port:02d} is already in use")

    # --- queries ----------------------------------------------------------------------

    def cards(self) -> list[Card]:
        with self.lock:
            return [self._cards[k] for k in sorted(self._cards)]

    def card(self, slot: int, cabinet: int = 1) -> Card:
        with self.lock:
            try:
                return self._cards[(cabinet, slot)]
            except KeyError:
                raise StateError(f"no card in cabinet {cabinet} slot {slot:02d}") from None

    def extensions(self) -> list[Extension]:
        with self.lock:
            return sorted(self._extensions.values(), key=lambda e: (len(e.number), e.number))

    def extension(self, number: str) -> Extension:
        with self.lock:
            try:
                return self._extensions[number]
            except KeyError:
                raise StateError(f"no extension {number}") from None

    def co_lines(self) -> list[CoLine]:
        with self.lock:
            return [self._co_lines[k] for k in sorted(self._co_lines)]

    def co_line(self, number: int) -> CoLine:
        with self.lock:
            try:
                return self._co_lines[number]
            except KeyError:
                raise StateError(f"no CO line {number:02d}") from None

    def error_log(self) -> list[LogEntry]:
        """The whole log, oldest first."""
        with self.lock:
            return sorted(self._log, key=lambda e: (e.when, e.seq))

    def active_alarms(self) -> list[LogEntry]:
        """Active entries, major first, then newest first."""
        with self.lock:
            active = [e for e in self._log if e.active]
        active.sort(key=lambda e: (e.when, e.seq), reverse=True)
        active.sort(key=lambda e: e.level is not Level.MJ)
        return active

    # --- changes ----------------------------------------------------------------------

    def log_error(self, level: Level, code: int, sub: str, message: str, *,
                  when: datetime | None = None, active: bool = False) -> LogEntry:
        """Append an error-log entry; a recovery code clears the failures it answers."""
        if not (len(sub) == 5 and sub.isdigit()):
            raise StateError(f"sub code must be 5 digits, not {sub!r}")
        if not 0 <= code <= 999:
            raise StateError(f"error code must be 0-999, not {code}")
        if len(message) > 36 or not message.isascii() or not message.isprintable():
            raise StateError(f"message must be at most 36 printable ASCII characters: {message!r}")
        with self.lock:
            entry = LogEntry(self._next_seq, when or self.now(), level, code, sub, message,
                             active)
            self._next_seq += 1
            self._log.append(entry)
            if code in RECOVERIES:
                self._recover(RECOVERIES[code], sub[:3], entry.when)
            return entry

    def _recover(self, codes: frozenset[int], cab_slot: str, when: datetime) -> None:
        for i, e in enumerate(self._log):
            if e.active and e.code in codes and e.sub_code[:3] == cab_slot and e.when <= when:
                self._log[i] = replace(e, active=False)

    def _deactivate(self, seqs: list[int]) -> None:
        wanted = set(seqs)
        self._log = [replace(e, active=False) if e.seq in wanted else e for e in self._log]

    def set_card_busied_out(self, slot: int, busied_out: bool, cabinet: int = 1) -> None:
        with self.lock:
            card = self.card(slot, cabinet)
            self._cards[(cabinet, slot)] = replace(card, busied_out=busied_out)
            self._refresh_ports()

    def set_co_busied_out(self, number: int, busied_out: bool) -> None:
        with self.lock:
            self._co_lines[number] = replace(self.co_line(number), busied_out=busied_out)

    def set_extension(self, number: str, *, name: str | None = None,
                      activity: str | None = None) -> None:
        with self.lock:
            ext = self.extension(number)
            if name is not None:
                _check_name(name)
                ext = replace(ext, name=name)
            if activity is not None:
                if activity not in EXTENSION_ACTIVITIES:
                    raise StateError(f"unknown extension activity {activity!r}")
                ext = replace(ext, activity=activity)
            self._extensions[number] = ext

    def _set_card_faulty(self, cabinet: int, slot: int, faulty: bool) -> None:
        self._cards[(cabinet, slot)] = replace(self.card(slot, cabinet), faulty=faulty)
        self._refresh_ports()

    def _refresh_ports(self) -> None:
        """Copy each card's status onto its ports (the only derived state)."""
        for n, line in self._co_lines.items():
            status = self._cards[(line.cabinet, line.slot)].status
            self._co_lines[n] = replace(line, card_status=status)
        for num, ext in self._extensions.items():
            status = self._cards[(ext.cabinet, ext.slot)].status
            self._extensions[num] = replace(ext, card_status=status)

    # --- the one programming session -------------------------------------------------

    def acquire_programming(self, owner: object) -> bool:
        """Take the single system-programming session; False if someone else holds it."""
        with self.lock:
            if self._programmer is None or self._programmer is owner:
                self._programmer = owner
                return True
            return False

    def release_programming(self, owner: object) -> None:
        """Release the lock if ``owner`` holds it (safe to call on every exit path)."""
        with self.lock:
            if self._programmer is owner:
                self._programmer = None

    @property
    def programming_holder(self) -> object | None:
        with self.lock:
            return self._programmer

    # --- fault injection --------------------------------------------------------------

    def active_faults(self) -> list[Fault]:
        with self.lock:
            return [Fault(f.kind, dict(f.params), list(f.log_seqs), f.saved) for f in self._faults]

    def inject_fault(self, kind: str, **params: Any) -> Fault:
        """Break something the way the real PBX breaks, logging what it would log."""
        spec = _fault_spec(kind)
        full = spec.normalise(params)
        with self.lock:
            if any(f.kind == kind and f.params == full for f in self._faults):
                raise FaultError(f"fault {kind} {full} is already active")
            fault = Fault(kind, full)
            spec.apply(self, fault)
            self._faults.append(fault)
            return fault

    def clear_fault(self, kind: str, **params: Any) -> None:
        """Undo an injected fault, logging a recovery code where the PBX has one."""
        spec = _fault_spec(kind)
        full = spec.normalise(params)
        with self.lock:
            for fault in self._faults:
                if fault.kind == kind and fault.params == full:
                    spec.revert(self, fault)
                    self._deactivate(fault.log_seqs)
                    self._faults.remove(fault)
                    return
            raise FaultError(f"fault {kind} {full} is not active")

    def _alarm(self, fault: Fault, level: Level, code: int, sub: str, message: str) -> None:
        fault.log_seqs.append(self.log_error(level, code, sub, message, active=True).seq)

    @contextmanager
    def batch(self) -> Iterator[PbxState]:
        """Hold the lock across several changes so no session sees a half-built state."""
        with self.lock:
            yield self


def _check_name(name: str) -> None:
    if len(name) > 16 or not name.isascii() or not name.isprintable():
        raise StateError(f"extension name must be at most 16 printable ASCII characters: {name!r}")


# --- the fault catalogue ------------------------------------------------------------------


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


def _dead_card(pbx: PbxState, fault: Fault) -> None:
    cab, slot = fault.params["cabinet"], fault.params["slot"]
    if pbx.card(slot, cab).faulty:
        raise FaultError(f"card in slot {slot:02d} is already faulty")
    pbx._set_card_faulty(cab, slot, True)
    pbx._alarm(fault, Level.MJ, 230, sub_code(cab, slot), "Card disconnected")


def _dead_card_revert(pbx: PbxState, fault: Fault) -> None:
    pbx._set_card_faulty(fault.params["cabinet"], fault.params["slot"], False)


def _trunk_busied_out(pbx: PbxState, fault: Fault) -> None:
    line = pbx.co_line(fault.params["co"])
    if line.auto_busied:
        raise FaultError(f"CO line {line.number:02d} is already busied out after error 330")
    pbx._co_lines[line.number] = replace(line, auto_busied=True)
    pbx._alarm(fault, Level.MN, 330, sub_code(line.cabinet, line.slot, line.port),
               "Loop current detection error")


def _trunk_busied_out_revert(pbx: PbxState, fault: Fault) -> None:
    line = pbx.co_line(fault.params["co"])
    pbx._co_lines[line.number] = replace(line, auto_busied=False)


def _digital_lines(pbx: PbxState, fault: Fault) -> list[CoLine]:
    cab, slot = fault.params["cabinet"], fault.params["slot"]
    card = pbx.card(slot, cab)
    if not CARD_TYPES[card.card_type].digital:
        raise FaultError(f"slot {slot:02d} holds {card.card_type}, not a digital trunk card")
    return [x for x in pbx._co_lines.values() if (x.cabinet, x.slot) == (cab, slot)]


def _out_of_sync(pbx: PbxState, fault: Fault) -> None:
    for line in _digital_lines(pbx, fault):
        pbx._co_lines[line.number] = replace(line, line_fault=True)
    pbx._alarm(fault, Level.MJ, 300, sub_code(fault.params["cabinet"], fault.params["slot"]),
               "Digital trunk out of sync")


def _out_of_sync_revert(pbx: PbxState, fault: Fault) -> None:
    for line in _digital_lines(pbx, fault):
        pbx._co_lines[line.number] = replace(line, line_fault=False)
    pbx.log_error(Level.MN, 390, sub_code(fault.params["cabinet"], fault.params["slot"]),
                  "Digital sync established")


def _simple_alarm(level: Level, code: int, message: str, *, per_cabinet: bool = False,
                  ) -> Callable[[PbxState, Fault], None]:
    """A fault that is only an alarm (battery, fan, SMDR link): no port changes state."""
    def apply(pbx: PbxState, fault: Fault) -> None:
        cab = fault.params["cabinet"] if per_cabinet else 1
        pbx._alarm(fault, level, code, f"{cab}0000", message)
    return apply


def _no_op(pbx: PbxState, fault: Fault) -> None:
    """Clearing only deactivates the fault's log entries (done by ``clear_fault``)."""


def _night_mode(pbx: PbxState, fault: Fault) -> None:
    fault.saved = pbx._time_service
    pbx._time_service = TimeService(Mode.NIGHT, automatic=False)


def _night_mode_revert(pbx: PbxState, fault: Fault) -> None:
    pbx._time_service = fault.saved


def _programming_locked(pbx: PbxState, fault: Fault) -> None:
    holder = f"{EXTERNAL_PROGRAMMER}:{fault.params['holder']}"
    if not pbx.acquire_programming(holder):
        raise FaultError("system programming is already held by a session")
    fault.saved = holder


def _programming_locked_revert(pbx: PbxState, fault: Fault) -> None:
    pbx.release_programming(fault.saved)


FAULTS: dict[str, FaultSpec] = {spec.kind: spec for spec in (
    FaultSpec("dead_card", {"slot": None, "cabinet": 1}, _dead_card, _dead_card_revert,
              "the card stops answering the MPR: 230, its ports go FLT"),
    FaultSpec("trunk_busied_out", {"co": None}, _trunk_busied_out, _trunk_busied_out_revert,
              "an analogue CO line loses loop current: 330, the line is busied out"),
    FaultSpec("digital_trunk_out_of_sync", {"slot": None, "cabinet": 1}, _out_of_sync,
              _out_of_sync_revert, "a PRI/BRI/E1/T1 card loses sync: 300, then 390 on clear"),
    FaultSpec("smdr_disconnect", {}, _simple_alarm(Level.MN, 510, "SMDR disconnect"), _no_op,
              "the call logger link is lost: 510"),
    FaultSpec("ram_battery_low", {}, _simple_alarm(Level.MJ, 12, "RAM battery low"), _no_op,
              "the MPR's backup battery is low: 012"),
    FaultSpec("ac_power_down", {}, _simple_alarm(Level.MJ, 10, "AC power down"), _no_op,
              "mains power lost: 010"),
    FaultSpec("fan_alarm", {"cabinet": 1},
              _simple_alarm(Level.MN, 14, "FAN alarm", per_cabinet=True), _no_op,
              "a cabinet fan stopped: 014"),
    FaultSpec("stuck_night_mode", {}, _night_mode, _night_mode_revert,
              "time service left on manual Night"),
    FaultSpec("programming_locked", {"holder": "201"}, _programming_locked,
              _programming_locked_revert, "a handset holds system programming"),
)}


def _fault_spec(kind: str) -> FaultSpec:
    try:
        return FAULTS[kind]
    except KeyError:
        raise FaultError(f"unknown fault kind {kind!r} (known: {', '.join(FAULTS)})") from None
