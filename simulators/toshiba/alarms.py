"""Toshiba Strata alarm codes, as pbxdiag defines them (docs/dialects/toshiba.md).

Toshiba publishes no numeric alarm list, so the dialect defines one: four digits, the
first the category (1 system, 2 PCB, 3 trunk, 4 T1, 5 ISDN, 6 system resources), the
other three the canonical event the state logged. Digital-trunk events fall in T1 or
ISDN according to the card on that slot. Equipment numbers are ``xxyyzz``: cabinet,
slot, circuit, two digits each.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.records import LogEntry, StateError
from simulators.state import PbxState

SYSTEM, PCB, TRUNK, T1, ISDN, RESOURCE = 1, 2, 3, 4, 5, 6
CATEGORY_NAMES = {SYSTEM: "SYSTEM", PCB: "PCB", TRUNK: "TRUNK", T1: "T1", ISDN: "ISDN",
                  RESOURCE: "RESOURCE"}
T1_CARDS = frozenset({"RDTU"})

_START_UP = ("ROM", "RAM", "NO PROGRAM", "VERSION", "DOWNLOAD", "NO RESPONSE", "TYPE",
             "CHECKSUM")

#: Canonical event -> (category, text). ``None`` category: T1 or ISDN, by the card.
TEXTS: dict[int, tuple[int | None, str]] = {
    0: (SYSTEM, "PROCESSOR WATCHDOG TIMEOUT"),
    1: (SYSTEM, "PROCESSOR MEMORY ERROR"),
    2: (SYSTEM, "SYSTEM INITIALIZED"),
    10: (SYSTEM, "AC POWER FAILURE"),
    11: (SYSTEM, "DC POWER FAILURE"),
    12: (SYSTEM, "BACKUP BATTERY LOW"),
    14: (SYSTEM, "CABINET FAN FAILURE"),
    42: (SYSTEM, "EXPANSION FAN FAILURE"),
    234: (SYSTEM, "CLOCK SYNC FAILURE (DPLL)"),
    235: (SYSTEM, "TDM CLOCK FAILURE"),
    392: (SYSTEM, "CLOCK SOURCE CHANGED"),
    **{200 + i: (PCB, f"PCB INIT FAIL ({text})") for i, text in enumerate(_START_UP)},
    211: (PCB, "SPEECH PATH LOOPBACK FAIL"),
    214: (PCB, "DSP BOOT FAIL"),
    215: (PCB, "FRAMER FAIL"),
    216: (PCB, "VOICE MAIL PCB DSP FAIL"),
    217: (PCB, "VOICE MAIL PCB DATA FAIL"),
    230: (PCB, "PCB NOT RESPONDING"),
    231: (PCB, "PCB HEARTBEAT LOST"),
    232: (PCB, "PCB COMMUNICATION ERROR"),
    250: (PCB, "DS1 DSP FAILURE"),
    330: (TRUNK, "CO LINE NO LOOP CURRENT"),
    300: (None, "LOSS OF FRAME SYNC"),
    301: (None, "REMOTE ALARM (YELLOW)"),
    302: (None, "AIS RECEIVED (BLUE)"),
    303: (None, "MULTIFRAME SYNC LOST"),
    304: (None, "FRAME ERROR"),
    305: (None, "D-CHANNEL DOWN"),
    306: (None, "CHANNEL BLOCK FAILURE"),
    390: (None, "FRAME SYNC RESTORED"),
    391: (None, "D-CHANNEL RESTORED"),
    16: (RESOURCE, "CHANNEL OVERLOAD"),
    17: (RESOURCE, "BRI PORT OVERLOAD"),
    307: (RESOURCE, "LAN LINK DOWN"),
    310: (RESOURCE, "VOICE MAIL PORT LINK FAIL"),
    393: (RESOURCE, "LAN LINK RESTORED"),
    510: (RESOURCE, "SMDR OUTPUT DISCONNECTED"),
}


@dataclass(frozen=True, slots=True)
class ToshibaAlarm:
    code: int
    category: str
    text: str


def digital_category(pbx: PbxState, cabinet: int, slot: int) -> int:
    """T1 for an RDTU, ISDN for every other digital card (or no card)."""
    try:
        card = pbx.card(slot, cabinet)
    except StateError:
        return ISDN
    return T1 if card.card_type in T1_CARDS else ISDN


def alarm_for(pbx: PbxState, entry: LogEntry) -> ToshibaAlarm:
    """The Toshiba code, category and text of a logged event."""
    category, text = TEXTS.get(entry.code, (RESOURCE, entry.message.upper()[:32]))
    if category is None:
        category = digital_category(pbx, entry.cabinet, entry.slot)
    return ToshibaAlarm(category * 1000 + entry.code, CATEGORY_NAMES[category], text)


def canonical_code(code: int) -> int | None:
    """The canonical event of a Toshiba alarm code (any category a digital event may take)."""
    category, event = divmod(code, 1000)
    if event not in TEXTS:
        return None
    expected = TEXTS[event][0]
    allowed = {T1, ISDN} if expected is None else {expected}
    return event if category in allowed else None


def equipment(entry: LogEntry) -> str:
    """``xxyyzz``: cabinet, slot, circuit — two digits each."""
    return f"{entry.cabinet:02d}{entry.slot:02d}{entry.port:02d}"


def sub_code_of(equipment_number: str) -> str | None:
    """The state's XYYZZ for an equipment number; None if it is not ``xxyyzz`` (cab 1-7)."""
    if len(equipment_number) != 6 or not equipment_number.isdigit():
        return None
    cabinet = int(equipment_number[:2])
    if not 1 <= cabinet <= 7:
        return None
    return f"{cabinet}{equipment_number[2:]}"


def all_codes() -> list[int]:
    """Every Toshiba alarm code the dialect defines, ascending (for the document)."""
    codes = []
    for event, (category, _) in TEXTS.items():
        for cat in ((T1, ISDN) if category is None else (category,)):
            codes.append(cat * 1000 + event)
    return sorted(codes)
