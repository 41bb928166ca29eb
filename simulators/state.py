"""One PBX's state, shared by every console session and line of a simulator.

Vendor dialects only *render* this state; every change goes through a method here so the
cards, ports, error log, alarms and SMDR always tell the same story (a dead card also
takes its CO lines and extensions down and leaves a 230 in the log). The state is
vendor-neutral: cards keep their vendor's type name, error events keep a canonical code
(Panasonic's numbering), and each dialect renders its own codes. All records handed out
are frozen: a session renders them without holding the lock while a fault is injected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from simulators.models import (
    CARD_TYPES,
    CO_KINDS,
    EXTENSION_TYPES,
    RECOVERIES,
    CardType,
    ModelProfile,
    model_profile,
)
from simulators.records import (
    EXTENSION_ACTIVITIES,
    CallRecord,
    Card,
    CoLine,
    Extension,
    Fault,
    FaultError,
    Level,
    LogEntry,
    Mode,
    SmdrItem,
    StateError,
    SystemEvent,
    SystemIdentity,
    TimeService,
    check_forward,
    check_name,
    check_pin,
)
from simulators.smdr_buffer import SmdrBuffer
from simulators.smdr_format import DEFAULT_LAYOUT, SmdrFormat, smdr_format

if TYPE_CHECKING:
    from simulators.faults import FaultSpec

UNRELIABLE = "programming_unreliable"  # the fault kind ``program_write`` honours


class PbxState:
    """The whole PBX. Every public method takes ``lock``; many sessions share one instance."""

    def __init__(self, system: SystemIdentity, *,
                 host_clock: Callable[[], datetime] = datetime.now) -> None:
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)  # SMDR, faults, lock, answering
        self._system = system
        self._profile = model_profile(system.vendor, system.model)
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
        self._responding = True
        self._programs: dict[tuple[str, ...], str] = {}
        self._smdr = SmdrBuffer()
        self._smdr_format = smdr_format(system.vendor) if system.vendor in DEFAULT_LAYOUT \
            else SmdrFormat("A")

    # --- identity, clock, time service -----------------------------------------------

    @property
    def system(self) -> SystemIdentity:
        return self._system

    @property
    def profile(self) -> ModelProfile | None:
        """The model's profile (slots, processor), None for a model the catalogue lacks."""
        return self._profile

    @property
    def vendor(self) -> str:
        return self._system.vendor

    @property
    def smdr_format(self) -> SmdrFormat:
        """The layout SMDR is printed in (system programming; simulators/smdr_format.py)."""
        return self._smdr_format

    def set_smdr_format(self, fmt: SmdrFormat) -> None:
        with self.lock:
            self._smdr_format = fmt

    def now(self) -> datetime:
        """The PBX's clock: the host clock plus the offset set by ``set_clock``."""
        with self.lock:
            return self._host_clock() + self._clock_offset

    def set_clock(self, when: datetime) -> None:
        """Set the clock as a simulation control (no trace on the PBX's SMDR)."""
        with self.lock:
            self._clock_offset = when - self._host_clock()

    def program_clock(self, when: datetime) -> None:
        """Set the clock by system programming: SMDR records the change (Toshiba ``T``)."""
        with self.lock:
            previous = self.now()
            self.set_clock(when)
            self._append_smdr(SystemEvent(when, "clock", previous=previous))

    @property
    def time_service(self) -> TimeService:
        with self.lock:
            return self._time_service

    def set_time_service(self, mode: Mode, *, automatic: bool) -> None:
        with self.lock:
            self._time_service = TimeService(mode, automatic)

    @property
    def responding(self) -> bool:
        """False while the processor is dead: no line answers, no session is served.

        Line servers honour it by not answering (a modem: NO ANSWER) or by closing the
        connection at once; a console session started while it is False sends nothing
        and closes, and a live one closes at the next byte it is fed.
        """
        with self.lock:
            return self._responding

    def set_responding(self, responding: bool) -> None:
        with self.lock:
            self._responding = responding
            self._changed.notify_all()

    # --- building the site ------------------------------------------------------------

    def add_card(self, card: Card) -> None:
        with self.lock:
            ctype = CARD_TYPES.get(card.card_type)
            if ctype is None:
                raise StateError(f"unknown card type {card.card_type!r}")
            if ctype.vendor != self._system.vendor:
                raise StateError(f"{card.card_type} is a {ctype.vendor} card, not a "
                                 f"{self._system.vendor} one")
            if (card.cabinet, card.slot) in self._cards:
                raise StateError(f"slot {card.cabinet}/{card.slot:02d} already has a card")
            self._check_card_place(card, ctype)
            self._cards[(card.cabinet, card.slot)] = card

    def _check_card_place(self, card: Card, ctype: CardType) -> None:
        profile = self._profile
        if profile is None:
            return
        if not profile.slot_ok(card.cabinet, card.slot, ctype.virtual):
            where = "a virtual card" if ctype.virtual else "a card"
            raise StateError(f"{profile.model} has no place for {where} in cabinet "
                             f"{card.cabinet} slot {card.slot:02d} ({profile.describe_slots()})")
        if ctype.role == "cpu" and card.card_type not in profile.cpu_types:
            raise StateError(f"the {profile.model} processor is "
                             f"{' or '.join(sorted(profile.cpu_types))}, not {card.card_type}")
        is_cpu_slot = (card.cabinet, card.slot) == (1, 0)
        if is_cpu_slot != (ctype.role == "cpu"):
            raise StateError("slot 00 of cabinet 1 holds the processor, and only it")

    def add_extension(self, ext: Extension) -> None:
        with self.lock:
            if ext.number in self._extensions or ext.number in self._all_phantoms():
                raise StateError(f"extension {ext.number} already exists")
            if ext.ext_type not in EXTENSION_TYPES:
                raise StateError(f"unknown extension type {ext.ext_type!r}")
            if ext.activity not in EXTENSION_ACTIVITIES:
                raise StateError(f"unknown extension activity {ext.activity!r}")
            check_name(ext.name)
            check_pin(ext.pin, allow_empty=True)
            check_forward(ext.forward_to)
            self._check_phantoms(ext)
            card = self._port_card(ext.cabinet, ext.slot, ext.port, "extension")
            self._check_port_free(ext.cabinet, ext.slot, ext.port)
            self._extensions[ext.number] = replace(ext, card_status=card.status)

    def _all_phantoms(self) -> set[str]:
        return {p for e in self._extensions.values() for p in e.phantoms}

    def _check_phantoms(self, ext: Extension) -> None:
        taken = set(self._extensions) | self._all_phantoms() | {ext.number}
        for number in ext.phantoms:
            if not number.isdigit() or len(number) > 5:
                raise StateError(f"a phantom DN is 1-5 digits, not {number!r}")
            if number in taken:
                raise StateError(f"directory number {number} already exists")
            taken.add(number)

    def add_co_line(self, line: CoLine) -> None:
        with self.lock:
            if line.number in self._co_lines:
                raise StateError(f"CO line {line.number:02d} already exists")
            if line.kind not in CO_KINDS:
                raise StateError(f"unknown CO line kind {line.kind!r}")
            card = self._port_card(line.cabinet, line.slot, line.port, "trunk")
            if card.kind.kind and card.kind.kind != line.kind:
                raise StateError(f"{card.card_type} carries {card.kind.kind} lines, "
                                 f"not {line.kind}")
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

    # --- error log --------------------------------------------------------------------

    def log_error(self, level: Level, code: int, sub: str, message: str, *,
                  when: datetime | None = None, active: bool = False) -> LogEntry:
        """Append an error-log entry; a recovery code clears the failures it answers.

        The entry is also printed on SMDR, as the PBX does; a 002 System Restart also
        leaves a restart record there.
        """
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
            self._append_smdr(entry)
            if code == 2:
                self._append_smdr(SystemEvent(entry.when, "restart"))
            return entry

    def _recover(self, codes: frozenset[int], cab_slot: str, when: datetime) -> None:
        for i, e in enumerate(self._log):
            if e.active and e.code in codes and e.sub_code[:3] == cab_slot and e.when <= when:
                self._log[i] = replace(e, active=False)

    def deactivate(self, seqs: Iterable[int]) -> None:
        """Mark log entries inactive (their fault is cleared)."""
        wanted = set(seqs)
        with self.lock:
            self._log = [replace(e, active=False) if e.seq in wanted else e for e in self._log]

    def clear_history(self) -> int:
        """Drop every inactive entry (Toshiba program 919); active alarms stay. Returns count."""
        with self.lock:
            before = len(self._log)
            self._log = [e for e in self._log if e.active]
            return before - len(self._log)

    # --- changes ----------------------------------------------------------------------

    def set_card_busied_out(self, slot: int, busied_out: bool, cabinet: int = 1) -> None:
        with self.lock:
            card = self.card(slot, cabinet)
            self._cards[(cabinet, slot)] = replace(card, busied_out=busied_out)
            self._refresh_ports()

    def set_co_busied_out(self, number: int, busied_out: bool) -> None:
        with self.lock:
            self._co_lines[number] = replace(self.co_line(number), busied_out=busied_out)

    def set_co_in_service(self, number: int, in_service: bool) -> None:
        """Maintenance busy by programming; putting a line back also undoes a 330 busy-out."""
        with self.lock:
            line = self.co_line(number)
            if in_service:
                line = replace(line, busied_out=False, auto_busied=False)
            else:
                line = replace(line, busied_out=True)
            self._co_lines[number] = line

    def set_extension(self, number: str, *, name: str | None = None,
                      activity: str | None = None, pin: str | None = None,
                      forward_to: str | None = None) -> None:
        with self.lock:
            ext = self.extension(number)
            if name is not None:
                check_name(name)
                ext = replace(ext, name=name)
            if activity is not None:
                if activity not in EXTENSION_ACTIVITIES:
                    raise StateError(f"unknown extension activity {activity!r}")
                ext = replace(ext, activity=activity)
            if pin is not None:
                check_pin(pin)
                ext = replace(ext, pin=pin)
            if forward_to is not None:
                check_forward(forward_to)
                ext = replace(ext, forward_to=forward_to)
            self._extensions[number] = ext

    def set_card_faulty(self, cabinet: int, slot: int, faulty: bool) -> None:
        with self.lock:
            self._cards[(cabinet, slot)] = replace(self.card(slot, cabinet), faulty=faulty)
            self._refresh_ports()

    def set_co_condition(self, number: int, *, auto_busied: bool | None = None,
                         line_fault: bool | None = None) -> None:
        """What the PBX itself decides about a line (330 busy-out, lost sync)."""
        with self.lock:
            line = self.co_line(number)
            if auto_busied is not None:
                line = replace(line, auto_busied=auto_busied)
            if line_fault is not None:
                line = replace(line, line_fault=line_fault)
            self._co_lines[number] = line

    def _refresh_ports(self) -> None:
        """Copy each card's status onto its ports (the only derived state)."""
        for n, line in self._co_lines.items():
            status = self._cards[(line.cabinet, line.slot)].status
            self._co_lines[n] = replace(line, card_status=status)
        for num, ext in self._extensions.items():
            status = self._cards[(ext.cabinet, ext.slot)].status
            self._extensions[num] = replace(ext, card_status=status)

    # --- programming data -------------------------------------------------------------

    def program_value(self, key: tuple[str, ...], default: str = "") -> str:
        """An inert programmed value (one with no effect the simulator models)."""
        with self.lock:
            return self._programs.get(key, default)

    def set_program_value(self, key: tuple[str, ...], value: str) -> None:
        with self.lock:
            self._programs[key] = value

    def program_values(self) -> dict[tuple[str, ...], str]:
        with self.lock:
            return dict(self._programs)

    def program_write(self, write: Callable[[str], None], value: str) -> None:
        """One programming write (Panasonic ``WRITE``, Toshiba ``PUT``) of ``value``.

        ``write`` parses and stores the value (raising on a value the PBX refuses). While
        a ``programming_unreliable`` fault has writes left, an accepted write is answered
        as usual but ``ignore`` keeps the old value and ``corrupt`` stores the value with
        its last character dropped (the old value stays if that is not a valid value).
        """
        with self.lock:
            fault = next((f for f in self._faults if f.kind == UNRELIABLE
                          and (not f.params["writes"] or f.saved < f.params["writes"])), None)
            if fault is None:
                write(value)
                return
            saved = self._programmable()
            write(value)  # a refused value is refused as usual and uses up nothing
            fault.saved += 1
            self._restore_programmable(saved)
            if fault.params["mode"] == "corrupt":
                try:
                    write(_drop_last_character(value))
                except ValueError:
                    self._restore_programmable(saved)

    def _programmable(self) -> tuple[Any, ...]:
        """What a programming write can change (records are frozen: copies suffice)."""
        return (dict(self._extensions), dict(self._co_lines), self._time_service,
                dict(self._programs), self._clock_offset, list(self._log))

    def _restore_programmable(self, saved: tuple[Any, ...]) -> None:
        extensions, co_lines, self._time_service, programs, self._clock_offset, log = saved
        self._extensions, self._co_lines = dict(extensions), dict(co_lines)
        self._programs, self._log = dict(programs), list(log)

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
                self._changed.notify_all()

    @property
    def programming_holder(self) -> object | None:
        with self.lock:
            return self._programmer

    # --- SMDR -------------------------------------------------------------------------

    def _append_smdr(self, item: SmdrItem) -> None:
        self._smdr.append(item)
        self._changed.notify_all()

    def add_calls(self, records: Iterable[CallRecord]) -> None:
        """Print call records on SMDR now, in the order given."""
        with self.lock:
            for record in records:
                self._append_smdr(record)

    def add_smdr_history(self, records: Iterable[CallRecord]) -> None:
        """Merge past records into the buffer by time, then number everything afresh.

        Calls that would have ended while the PBX was down (a power cut) are dropped.
        Only for building a site (before anyone streams SMDR): live records use
        ``add_calls`` so a streaming client never sees the past rewritten.
        """
        with self.lock:
            self._smdr.merge_history(records)
            self._changed.notify_all()

    def smdr_items(self, after: int = 0) -> list[tuple[int, SmdrItem]]:
        """Buffered SMDR items with their buffer sequence numbers, those after ``after``."""
        with self.lock:
            return self._smdr.after(after)

    def wait_smdr(self, after: int, timeout: float | None,
                  stop: Callable[[], bool] = lambda: False) -> list[tuple[int, SmdrItem]]:
        """Block until there are items after ``after`` (or ``stop()``, or the deadline)."""
        with self._changed:
            self._changed.wait_for(lambda: self._smdr.last_seq > after or stop(), timeout)
            return self.smdr_items(after)

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until ``predicate()`` holds; it is re-checked whenever the state signals a
        change (SMDR, faults, the programming lock, answering). False at the deadline."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def notify_smdr(self) -> None:
        """Wake every ``wait_smdr`` (a fault changed, a client left, a server stops)."""
        with self._changed:
            self._changed.notify_all()

    def add_outage(self, start: datetime, end: datetime) -> None:
        with self.lock:
            self._smdr.add_outage(start, end)

    def in_outage(self, when: datetime) -> bool:
        """True if the PBX was down (power cut) at ``when``: no call can be logged then."""
        with self.lock:
            return self._smdr.in_outage(when)

    def clock_changed_between(self, start: datetime, end: datetime) -> bool:
        with self.lock:
            return self._smdr.clock_changed_between(start, end)

    # --- fault injection --------------------------------------------------------------

    def active_faults(self) -> list[Fault]:
        with self.lock:
            return [Fault(f.kind, dict(f.params), list(f.log_seqs), f.saved) for f in self._faults]

    def count_use(self, kind: str, command: str) -> int:
        """Uses so far of the active ``kind`` fault for ``command`` (this one counted)."""
        words = command.upper().split()
        with self.lock:
            for fault in self._faults:
                if fault.kind == kind and str(fault.params["command"]).upper().split() == words:
                    seen = int(fault.saved or 0)
                    fault.saved = seen + 1
                    return seen
        return 0

    def has_fault(self, kind: str) -> bool:
        with self.lock:
            return any(f.kind == kind for f in self._faults)

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
            self._changed.notify_all()
            return fault

    def clear_fault(self, kind: str, **params: Any) -> None:
        """Undo an injected fault, logging a recovery code where the PBX has one."""
        spec = _fault_spec(kind)
        full = spec.normalise(params)
        with self.lock:
            for fault in self._faults:
                if fault.kind == kind and fault.params == full:
                    spec.revert(self, fault)
                    self.deactivate(fault.log_seqs)
                    self._faults.remove(fault)
                    self._changed.notify_all()
                    return
            raise FaultError(f"fault {kind} {full} is not active")

    def raise_alarm(self, fault: Fault, level: Level, code: int, sub: str, message: str,
                    *, when: datetime | None = None) -> LogEntry:
        """An active log entry that belongs to ``fault`` (cleared with it)."""
        entry = self.log_error(level, code, sub, message, active=True, when=when)
        fault.log_seqs.append(entry.seq)
        return entry

    @contextmanager
    def batch(self) -> Iterator[PbxState]:
        """Hold the lock across several changes so no session sees a half-built state."""
        with self.lock:
            yield self


def _drop_last_character(value: str) -> str:
    """The value a flaky NVRAM keeps: its last character lost (inside any quotes)."""
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[:-2] + '"'
    return value[:-1]


def _fault_spec(kind: str) -> FaultSpec:
    from simulators.faults import fault_spec

    return fault_spec(kind)
