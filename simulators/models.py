"""What a simulated PBX may contain: card types, model profiles and the error-event table.

The state model is vendor-neutral: cards are named by their vendor's type (``LCOT8``,
``RCOU``) but described here by role, port count and the canonical trunk kind they carry;
a model profile says which processor, cabinets and slots a system has and what its
software version looks like. Error events are numbered with Panasonic's published codes
(the richest public list); the Toshiba dialect renders them with its own alarm codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PANASONIC = "Panasonic"
TOSHIBA = "Toshiba"

#: Canonical CO-line kinds: analogue loop start, BRI, PRI (also T1/E1), SIP/VoIP.
CO_KINDS = frozenset({"LCOT", "BRI", "PRI", "SIP"})
#: Canonical extension types (Panasonic's words; Toshiba renders DKT/EKT/STD/IPT).
EXTENSION_TYPES = frozenset({"DPT", "APT", "SLT", "IPPT"})


@dataclass(frozen=True, slots=True)
class CardType:
    """What a card is for and how many ports it has."""

    vendor: str
    role: str  # "cpu", "extension", "trunk", "other"
    ports: int
    digital: bool = False
    kind: str = ""  # the canonical CO kind of a trunk card's lines
    virtual: bool = False  # a KX-NS virtual slot card (no hardware)


def _p(role: str, ports: int, kind: str = "", *, digital: bool = False,
       virtual: bool = False) -> CardType:
    return CardType(PANASONIC, role, ports, digital, kind, virtual)


def _t(role: str, ports: int, kind: str = "", *, digital: bool = False) -> CardType:
    return CardType(TOSHIBA, role, ports, digital, kind)


CARD_TYPES: dict[str, CardType] = {
    # Panasonic KX-TDA / KX-TDE / KX-NS (DOMAIN.md card list)
    "MPR": _p("cpu", 0), "IPCMPR": _p("cpu", 0), "NS-MB": _p("cpu", 0),
    "MEC": _p("other", 0), "RMT": _p("other", 0), "MSG4": _p("other", 4),
    "LCOT4": _p("trunk", 4, "LCOT"), "LCOT8": _p("trunk", 8, "LCOT"),
    "LCOT16": _p("trunk", 16, "LCOT"), "DID8": _p("trunk", 8, "LCOT"),
    "E&M8": _p("trunk", 8, "LCOT"),
    "T1": _p("trunk", 24, "PRI", digital=True), "E1": _p("trunk", 30, "PRI", digital=True),
    "BRI4": _p("trunk", 8, "BRI", digital=True), "BRI8": _p("trunk", 16, "BRI", digital=True),
    "PRI30": _p("trunk", 30, "PRI", digital=True),
    "IP-GW4": _p("trunk", 4, "SIP"), "IP-GW16": _p("trunk", 16, "SIP"),
    "DHLC8": _p("extension", 8), "DLC8": _p("extension", 8), "DLC16": _p("extension", 16),
    "SLC8": _p("extension", 8), "SLC16": _p("extension", 16), "MSLC16": _p("extension", 16),
    "CSIF4": _p("extension", 4), "CSIF8": _p("extension", 8),
    "IP-EXT16": _p("extension", 16),
    "DPH4": _p("other", 4), "EIO4": _p("other", 4), "ECHO16": _p("other", 0),
    # KX-NS virtual slot cards
    "V-IPEXT": _p("extension", 32, virtual=True),
    "V-SIPEXT": _p("extension", 32, virtual=True),
    "V-SIPGW": _p("trunk", 16, "SIP", virtual=True),
    "V-IPGW": _p("trunk", 16, "SIP", virtual=True),
    # Toshiba Strata CTX / CIX
    "ACTU": _t("cpu", 0), "BCTU": _t("cpu", 0), "BECU": _t("cpu", 0),
    "BEXU": _t("other", 0), "BSIS": _t("other", 4), "BIOU": _t("other", 2),
    "PDKU": _t("extension", 8), "BDKU": _t("extension", 16), "BDKS": _t("extension", 8),
    "ADKU": _t("extension", 8), "PEKU": _t("extension", 8),
    "PSTU": _t("extension", 8), "RSTU": _t("extension", 8),
    "RCOU": _t("trunk", 4, "LCOT"), "RCOS": _t("trunk", 4, "LCOT"),
    "RCIU": _t("trunk", 4, "LCOT"), "RCIS": _t("trunk", 4, "LCOT"),
    "RDDU": _t("trunk", 4, "LCOT"), "REMU": _t("trunk", 4, "LCOT"),
    "RDTU": _t("trunk", 24, "PRI", digital=True), "RPTU": _t("trunk", 23, "PRI", digital=True),
    "BPTU": _t("trunk", 30, "PRI", digital=True),
    "RBSU": _t("trunk", 4, "BRI", digital=True), "RBUU": _t("trunk", 4, "BRI", digital=True),
    "BVPU": _t("trunk", 8, "SIP"), "BIPU": _t("trunk", 16, "SIP"),
}


# --- model profiles -----------------------------------------------------------------------

_PANASONIC_VERSION = r"{} Software File Version \d+\.\d{{4,5}}"
#: Toshiba version code: product, country, release, software, IPL, DTMF, flags, suffix.
TOSHIBA_VERSION = re.compile(
    r"(?P<product>[NSA])(?P<country>[A-Z])(?P<release>\d{3})(?P<software>[A-Z0-9]{5})"
    r"(?P<ipl>[A-Z0-9]{2})(?P<dtmf>D\d{2})(?P<flags>[B-][X-][S-][E-][M-])\.(?P<suffix>\d{2})")


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """One PBX model: its processor, its cabinets and slots, its version string."""

    vendor: str
    model: str
    cpu_types: frozenset[str]
    cabinets: int  # cabinets (shelves, units) 1..cabinets
    slots: int  # physical slots 1..slots; slot 00 holds the processor
    version: re.Pattern[str]
    virtual_slots: range = range(0)  # KX-NS: slot numbers of the virtual cards
    product: str = ""  # Toshiba: the version code's product letter

    def slot_ok(self, cabinet: int, slot: int, virtual: bool) -> bool:
        if not 1 <= cabinet <= self.cabinets:
            return False
        if virtual:
            return cabinet == 1 and slot in self.virtual_slots
        return 0 <= slot <= self.slots

    def describe_slots(self) -> str:
        text = f"cabinets 1-{self.cabinets}, slots 00-{self.slots:02d}"
        if self.virtual_slots:
            text += (f", virtual slots {self.virtual_slots.start}-"
                     f"{self.virtual_slots.stop - 1} (cabinet 1)")
        return text


def _panasonic(model: str, cpu: str, prefix: str, *, cabinets: int, slots: int,
               virtual: range = range(0)) -> ModelProfile:
    return ModelProfile(PANASONIC, model, frozenset({cpu}), cabinets, slots,
                        re.compile(_PANASONIC_VERSION.format(prefix)), virtual)


def _toshiba(model: str, cpus: set[str], *, cabinets: int, slots: int,
             product: str) -> ModelProfile:
    return ModelProfile(TOSHIBA, model, frozenset(cpus), cabinets, slots, TOSHIBA_VERSION,
                        product=product)


NS_VIRTUAL_SLOTS = range(51, 67)

MODELS: dict[str, ModelProfile] = {p.model: p for p in (
    _panasonic("KX-TDA50", "MPR", "PSMPR", cabinets=1, slots=4),
    _panasonic("KX-TDA100", "MPR", "PMPR", cabinets=1, slots=6),
    _panasonic("KX-TDA200", "MPR", "PMPR", cabinets=1, slots=11),
    _panasonic("KX-TDA600", "MPR", "PLMPR", cabinets=4, slots=14),
    _panasonic("KX-TDE100", "IPCMPR", "PMPR", cabinets=1, slots=6),
    _panasonic("KX-TDE200", "IPCMPR", "PMPR", cabinets=1, slots=11),
    _panasonic("KX-TDE600", "IPCMPR", "PLMPR", cabinets=4, slots=14),
    _panasonic("KX-NS700", "NS-MB", "PCMPR", cabinets=6, slots=6, virtual=NS_VIRTUAL_SLOTS),
    _toshiba("CTX100", {"ACTU"}, cabinets=2, slots=4, product="S"),
    _toshiba("CIX100", {"ACTU"}, cabinets=2, slots=4, product="S"),
    _toshiba("CTX670", {"BCTU", "BECU"}, cabinets=7, slots=8, product="N"),
    _toshiba("CIX670", {"BCTU", "BECU"}, cabinets=7, slots=8, product="N"),
)}


def model_profile(vendor: str, model: str) -> ModelProfile | None:
    """The profile of a known model of ``vendor``; None for a model we do not describe."""
    profile = MODELS.get(model)
    return profile if profile is not None and profile.vendor == vendor else None


def version_problem(profile: ModelProfile, version: str) -> str | None:
    """Why ``version`` cannot be this model's software version, or None if it can."""
    match = profile.version.fullmatch(version)
    if match is None:
        if profile.vendor == TOSHIBA:
            return "a Strata version code looks like NA102MA2XXP1D12BXSEM.00"
        prefix = profile.version.pattern.split(" ", 1)[0]
        return f"a {profile.model} version looks like '{prefix} Software File Version 3.2000'"
    if profile.product and match["product"] != profile.product:
        return (f"a {profile.model} version code starts with {profile.product}, "
                f"not {match['product']}")
    return None


# --- error events (canonical codes = Panasonic's KX-TDA600 table) ------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """An error-log event: its usual level and Panasonic's message (at most 36 characters)."""

    major: bool
    message: str


_START_UP = ("ROM NG", "RAM NG", "No program", "Version NG", "Download NG", "No response",
             "Card type NG", "Checksum NG")

EVENTS: dict[int, Event] = {
    0: Event(True, "MPR WDT overflow"),
    1: Event(True, "SDRAM bit error"),
    2: Event(True, "System Restart"),
    10: Event(True, "AC power down"),
    11: Event(True, "DC power down"),
    12: Event(True, "RAM battery low"),
    14: Event(False, "FAN alarm"),
    16: Event(False, "CS overload"),
    17: Event(False, "BRI port overload"),
    42: Event(False, "Shelf FAN alarm"),
    **{200 + i: Event(True, f"LPR start-up error ({text})") for i, text in enumerate(_START_UP)},
    211: Event(False, "Speech path loop-back error"),
    214: Event(True, "DSP boot error"),
    215: Event(True, "Framer IC error"),
    216: Event(True, "MSG card DSP error"),
    217: Event(True, "MSG card data error"),
    230: Event(True, "Card disconnected"),
    231: Event(True, "LPR alive check error"),
    232: Event(True, "MPR-LPR communication error"),
    234: Event(True, "DPLL clock failure"),
    235: Event(True, "CS clock failure"),
    250: Event(True, "T1/E1 DSP failure"),
    300: Event(True, "Digital trunk out of sync"),
    301: Event(False, "RAI reception"),
    302: Event(False, "AIS reception"),
    303: Event(False, "Multiframe out of sync"),
    304: Event(False, "Frame error"),
    305: Event(False, "Data link failure"),
    306: Event(False, "E1 channel block failure"),
    307: Event(False, "LAN no carrier"),
    310: Event(False, "Port link failure"),
    330: Event(False, "Loop current detection error"),
    390: Event(False, "Digital sync established"),
    391: Event(False, "Data link established"),
    392: Event(False, "Clock master card selected"),
    393: Event(False, "LAN carrier detected"),
    510: Event(False, "SMDR disconnect"),
}

#: Recovery codes and the failure codes they clear on the same cabinet/slot.
RECOVERIES: dict[int, frozenset[int]] = {
    390: frozenset({300, 301, 302, 303, 304, 306}),
    391: frozenset({305}),
    393: frozenset({307}),
}
