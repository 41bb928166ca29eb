"""The vendor-neutral model every driver returns and every playbook reads.

Normalised fields sit next to the vendor's own codes (``raw``, ``code``, ``sub_code``) so
nothing a second-line engineer may need is ever thrown away. All types are frozen
dataclasses: a getter's answer is evidence and must not change after it is recorded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class AlarmLevel(StrEnum):
    MAJOR = "major"
    MINOR = "minor"


class CardStatus(StrEnum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    FAULT = "fault"


class TrunkState(StrEnum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    FAULT = "fault"


class TrunkKind(StrEnum):
    ANALOGUE = "analogue"
    BRI = "bri"
    PRI = "pri"
    SIP = "sip"


class ExtensionState(StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    OUT_OF_SERVICE = "out_of_service"
    FAULT = "fault"
    NOT_CONNECTED = "not_connected"


@dataclass(frozen=True, slots=True)
class Location:
    """Cabinet / slot / port; ``None`` where a level does not apply (a card has no port)."""

    cabinet: int
    slot: int | None = None
    port: int | None = None

    def __str__(self) -> str:
        parts = [f"cab {self.cabinet}"]
        if self.slot is not None:
            parts.append(f"slot {self.slot:02d}")
        if self.port is not None:
            parts.append(f"port {self.port:02d}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class SystemInfo:
    vendor: str
    model: str
    software_version: str  # as the PBX prints it
    raw: str = ""
    #: The version decoded into its fields where the vendor encodes them (Toshiba's version
    #: code: product, release, equipment flags such as modem and Ethernet).
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alarm:
    """One error-log entry: an active alarm, or a history line of the error log."""

    level: AlarmLevel
    code: str
    sub_code: str
    location: Location | None
    message: str
    first_seen: datetime | None
    raw: str = ""
    #: A recovery entry (digital sync / data link / LAN carrier established) ...
    recovery: bool = False
    #: ... and, on a failure, when the recovery that cleared it was logged.
    cleared_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Card:
    location: Location
    type: str
    model_number: str
    firmware: str
    status: CardStatus
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Trunk:
    number: int
    location: Location
    kind: TrunkKind
    state: TrunkState
    busied_out: bool
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Extension:
    number: str
    name: str
    location: Location
    type: str
    state: ExtensionState
    raw: str = ""


@dataclass(frozen=True, slots=True)
class OperatingMode:
    mode: str
    automatic: bool
    raw: str = ""


class CallDirection(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERCOM = "intercom"
    OTHER = "other"  # LOG IN / LOG OUT and the like


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One SMDR record; ``ended_at`` is None where the PBX printed ``**`` (clock changed)."""

    ended_at: datetime | None
    extension: str
    trunk: str
    direction: CallDirection
    dialled: str  # what the PBX printed, symbols kept (P pause, F flash, . secret, X privacy)
    caller_id: str
    ddi: str
    ring_s: int | None
    duration_s: int | None
    account_code: str
    condition: str  # TR FW D0 NA RC AN RM..., blank on the final record of a call
    raw: str = ""
    #: The charge as printed (pattern B: ``EU00000.00`` or ``00560.00EU``); blank if none.
    cost: str = ""
    #: True where the layout prints no year (Toshiba ``MO/DD``) and it was inferred.
    year_inferred: bool = False


@dataclass(frozen=True, slots=True)
class ParseReport:
    """A partial parse: the lines a parser could not read are reported, never dropped."""

    bad_lines: tuple[tuple[int, str], ...] = field(default_factory=tuple)


def to_jsonable(value: Any) -> Any:
    """Dataclasses (and lists/dicts of them) as plain JSON-ready data: enums as their values,
    dates and times in ISO 8601. The one converter: getter answers, run results and ticket
    listings all go through it, so a value reads the same in every JSON the agent writes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value
