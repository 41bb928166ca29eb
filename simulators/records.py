"""The records a simulated PBX is made of, and what makes their values valid.

Every record is frozen: ``PbxState`` hands them to sessions, which render them without
holding the state's lock while another thread injects a fault. Kept apart from the state
so the dialects, the SMDR formatters and the scenario loader can name the records without
the machinery that changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from simulators.models import CARD_TYPES, CardType


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
    """MJ affects the whole system, MN part of it (Panasonic's words; Toshiba says MAJOR)."""

    MJ = "MJ"
    MN = "MN"


class Mode(StrEnum):
    DAY = "DAY"
    NIGHT = "NIGHT"
    LUNCH = "LUNCH"
    BREAK = "BREAK"
    HOLIDAY = "HOLIDAY"


EXTENSION_ACTIVITIES = frozenset({"IDLE", "BUSY", "NC"})
PIN_LENGTH = range(4, 11)
MAX_FORWARD_DIGITS = 24


@dataclass(frozen=True, slots=True)
class SystemIdentity:
    vendor: str  # "Panasonic" or "Toshiba"
    model: str  # "KX-TDE200", "CTX670"
    software_version: str  # "PMPR Software File Version 5.0000" / "NA102MA2XXP1D12BXSEM.00"
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

    @property
    def kind(self) -> CardType:
        return CARD_TYPES[self.card_type]


@dataclass(frozen=True, slots=True)
class CoLine:
    """A CO line (trunk); its status also depends on its card (kept in ``card_status``)."""

    number: int
    cabinet: int
    slot: int
    port: int
    kind: str
    busied_out: bool = False  # by command (maintenance busy)
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
    """A station. ``pin`` is write-only on every console; ``phantoms`` are Toshiba PhDNs."""

    number: str
    name: str
    cabinet: int
    slot: int
    port: int
    ext_type: str
    activity: str = "IDLE"  # IDLE / BUSY / NC
    busied_out: bool = False
    card_status: Status = Status.INS
    pin: str = field(default="", repr=False)
    forward_to: str = ""  # call forwarding (all calls); "" = none
    phantoms: tuple[str, ...] = ()

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
    """One error-log line; ``active`` entries are the current alarms.

    ``code`` is the canonical event code (Panasonic's table); ``sub_code`` the location
    as XYYZZ (cabinet, slot, port). Each dialect renders both its own way.
    """

    seq: int
    when: datetime
    level: Level
    code: int
    sub_code: str
    message: str
    active: bool = False

    @property
    def cabinet(self) -> int:
        return int(self.sub_code[0])

    @property
    def slot(self) -> int:
        return int(self.sub_code[1:3])

    @property
    def port(self) -> int:
        return int(self.sub_code[3:5])


class CallKind(StrEnum):
    OUTGOING = "out"
    INCOMING = "in"
    INTERCOM = "int"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One SMDR call record, vendor-neutral.

    ``condition`` uses Panasonic's codes (TR FW D0 NA RC AN RM, "" for a plain record). RC
    and AN are *progress* records (ringing, answered) printed only by dialects that print
    them; ``record_no`` counts the other records (Toshiba numbers its records).
    """

    ended: datetime
    extension: str
    kind: CallKind
    number: str = ""  # dialled number / caller ID / the other extension (intercom)
    co: int | None = None
    ddi: str = ""
    ring_s: int | None = None
    duration_s: int | None = None
    account_code: str = ""
    condition: str = ""
    clock_changed: bool = False
    seq: int = 0
    record_no: int = 0

    @property
    def progress(self) -> bool:
        return self.condition in ("RC", "AN")

    @property
    def when(self) -> datetime:
        return self.ended


@dataclass(frozen=True, slots=True)
class SystemEvent:
    """A system record on the SMDR port: ``restart`` (after 002) or ``clock`` (time set)."""

    when: datetime
    kind: str
    previous: datetime | None = None  # clock: the time before the change
    seq: int = 0
    record_no: int = 0


SmdrItem = CallRecord | LogEntry | SystemEvent


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


def sub_code(cabinet: int, slot: int | None = None, port: int | None = None) -> str:
    """XYYZZ: cabinet, slot (00 = processor), port (00 where not applicable)."""
    return f"{cabinet}{slot or 0:02d}{port or 0:02d}"


def check_name(name: str) -> None:
    if len(name) > 16 or not name.isascii() or not name.isprintable() or '"' in name:
        raise StateError("extension name must be at most 16 printable ASCII characters, "
                         f"no '\"': {name!r}")


def check_pin(pin: str, *, allow_empty: bool = False) -> None:
    if allow_empty and not pin:
        return
    if not (pin.isascii() and pin.isdigit() and len(pin) in PIN_LENGTH):
        raise StateError("a PIN is 4-10 digits")


def check_forward(destination: str) -> None:
    if destination and not (destination.isascii() and destination.isdigit()
                            and len(destination) <= MAX_FORWARD_DIGITS):
        raise StateError(f"a forwarding destination is 1-{MAX_FORWARD_DIGITS} digits")
