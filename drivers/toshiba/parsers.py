"""Pure parsers from Toshiba Strata console text (docs/dialects/toshiba.md) to the model.

Same shape as the Panasonic parsers: ``(items, bad_lines)``; explicit empty replies
(``NO ACTIVE ALARM``, ``ALARM HISTORY EMPTY``) are empty lists, not parse failures.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from drivers.model import (
    Alarm,
    AlarmLevel,
    Card,
    CardStatus,
    Extension,
    ExtensionState,
    Location,
    OperatingMode,
    SystemInfo,
    Trunk,
    TrunkKind,
    TrunkState,
)
from drivers.textparse import BadLines, key_values, month_day_year, readable, table

ALARM_HEADER = "DATE TIME CODE CATEGORY SEV EQUIP DESCRIPTION"
_ALARM_LINE = re.compile(
    r"^(?P<date>\d\d/\d\d/\d\d) (?P<time>\d\d:\d\d:\d\d) (?P<code>\d{4}) "
    r"(?P<category>[A-Z]+)\s+(?P<sev>MAJOR|MINOR) (?P<equip>\d{6}) (?P<text>.{1,32})$",
    re.ASCII,
)
_PCB_LINE = re.compile(r"^(?P<slot>\d{4}) (?P<pcb>[A-Z0-9]+)\s+(?P<ver>\S+)\s+"
                       r"(?P<status>IN-SVC|OUT-SVC|FAULT)$", re.ASCII)
_TRUNK_LINE = re.compile(r"^T(?P<number>\d{3}) (?P<equip>\d{6}) (?P<type>[A-Z0-9]+)\s+"
                         r"(?P<status>IN-SVC|OUT-SVC|FAULT)$", re.ASCII)
_STATION_LINE = re.compile(r"^(?P<pdn>\d{1,8})\s+(?P<equip>\d{6}) (?P<type>[A-Z]{3})\s"
                           r"(?P<name>.*?)\s*(?P<status>IDLE|BUSY|OUT-SVC|FAULT|NOT-CONN)$",
                           re.ASCII)
_VERSION_CODE = re.compile(
    r"^(?P<product>[NSA])(?P<country>[A-Z])(?P<release>\d{3})(?P<software>[A-Z0-9]{5})"
    r"(?P<ipl>[A-Z0-9]{2})(?P<dtmf>[A-Z0-9]{3})(?P<flags>[B-][X-][S-][E-][M-])"
    r"\.(?P<patch>\d{2})$",
    re.ASCII,
)

_STATUS_CARD = {"IN-SVC": CardStatus.IN_SERVICE, "OUT-SVC": CardStatus.OUT_OF_SERVICE,
                "FAULT": CardStatus.FAULT}
_STATUS_TRUNK = {"IN-SVC": TrunkState.IN_SERVICE, "OUT-SVC": TrunkState.OUT_OF_SERVICE,
                 "FAULT": TrunkState.FAULT}
_TRUNK_KIND = {"LS": TrunkKind.ANALOGUE, "DID": TrunkKind.ANALOGUE, "EM": TrunkKind.ANALOGUE,
               "T1": TrunkKind.PRI, "PRI": TrunkKind.PRI, "BRI": TrunkKind.BRI,
               "IP": TrunkKind.SIP}
_STATUS_STATION = {"IDLE": ExtensionState.IDLE, "BUSY": ExtensionState.BUSY,
                   "OUT-SVC": ExtensionState.OUT_OF_SERVICE, "FAULT": ExtensionState.FAULT,
                   "NOT-CONN": ExtensionState.NOT_CONNECTED}
_MODES = {"DAY": "day", "DAY2": "lunch", "DAY3": "break", "NIGHT": "night",
          "HOLIDAY": "holiday"}
_PRODUCTS = {"N": "CTX670/CIX670", "S": "CTX100/CIX100", "A": "CIX1200"}
_FLAGS = (("B", "bbms"), ("X", "bexs"), ("S", "bsis"), ("E", "ethernet"), ("M", "modem"))


@dataclass(frozen=True, slots=True)
class VersionCode:
    """A Strata version code decoded by position (DOMAIN.md)."""

    code: str
    product: str
    country: str
    release: str  # "R1.02"
    software: str
    ipl: str
    dtmf: str
    equipment: dict[str, bool]
    patch: str


def decode_version(code: str) -> VersionCode | None:
    match = _VERSION_CODE.match(code.strip())
    if match is None:
        return None
    release = match["release"]
    return VersionCode(
        code=code.strip(), product=_PRODUCTS[match["product"]], country=match["country"],
        release=f"R{int(release[0])}.{release[1:]}", software=match["software"],
        ipl=match["ipl"], dtmf=match["dtmf"],
        equipment={name: flag == letter for (letter, name), flag in zip(_FLAGS, match["flags"],
                                                                          strict=True)},
        patch=match["patch"])


def location_from_equipment(equip: str) -> Location:
    """``xxyyzz``: cabinet, slot, circuit; ``00`` means "the whole card" or "the system"."""
    cabinet, slot, circuit = int(equip[0:2]), int(equip[2:4]), int(equip[4:6])
    return Location(cabinet=cabinet, slot=slot or None, port=circuit or None)


def parse_version(text: str) -> tuple[SystemInfo | None, BadLines]:
    values, bad = key_values(text)
    system, version = values.get("SYSTEM"), values.get("VERSION")
    if system is None or version is None:
        return None, bad or [(0, "missing SYSTEM or VERSION")]
    decoded = decode_version(version)
    if decoded is None:
        return None, [*bad, (0, f"version code {version!r} does not decode")]
    return SystemInfo(vendor="toshiba", model=system.removeprefix("STRATA ").strip(),
                      software_version=version, raw=text.strip(),
                      details=asdict(decoded)), bad


def parse_alarm_line(line: str) -> Alarm | None:
    match = _ALARM_LINE.match(line.rstrip())
    if match is None:
        return None
    try:
        seen = month_day_year(match["date"], match["time"])
    except ValueError:
        return None
    return Alarm(
        level=AlarmLevel.MAJOR if match["sev"] == "MAJOR" else AlarmLevel.MINOR,
        code=match["code"], sub_code=match["equip"],
        location=location_from_equipment(match["equip"]),
        message=match["text"].rstrip(), first_seen=seen, raw=line.rstrip())


def parse_alarms(text: str, *, empty: str = "NO ACTIVE ALARM") -> tuple[list[Alarm], BadLines]:
    if text.strip() == empty:
        return [], []
    rows, bad = table(text, ALARM_HEADER)
    return [alarm for _line, alarm in readable(rows, parse_alarm_line, bad)], bad


def parse_alarm_history(text: str) -> tuple[list[Alarm], BadLines]:
    return parse_alarms(text, empty="ALARM HISTORY EMPTY")


def parse_pcbs(text: str) -> tuple[list[Card], BadLines]:
    rows, bad = table(text, "SLOT PCB VER STATUS")
    cards = [Card(location=Location(int(match["slot"][:2]), int(match["slot"][2:])),
                  type=match["pcb"], model_number=match["pcb"], firmware=match["ver"],
                  status=_STATUS_CARD[match["status"]], raw=line)
             for line, match in readable(rows, _PCB_LINE.match, bad)]
    return cards, bad


def parse_trunks(text: str) -> tuple[list[Trunk], BadLines]:
    rows, bad = table(text, "TRK EQUIP TYPE STATUS")
    trunks = [Trunk(number=int(match["number"]), location=location_from_equipment(match["equip"]),
                    kind=_TRUNK_KIND[match["type"]], state=_STATUS_TRUNK[match["status"]],
                    busied_out=match["status"] == "OUT-SVC", raw=line)
              for line, match in readable(rows, _trunk_match, bad)]
    return trunks, bad


def _trunk_match(line: str) -> re.Match[str] | None:
    """A trunk row of a type this driver knows; an unknown type is an unreadable row."""
    match = _TRUNK_LINE.match(line)
    return match if match is not None and match["type"] in _TRUNK_KIND else None


def parse_stations(text: str) -> tuple[list[Extension], BadLines]:
    rows, bad = table(text, "PDN EQUIP TYPE NAME STATUS")
    stations = [Extension(number=match["pdn"], name=match["name"].strip(),
                          location=location_from_equipment(match["equip"]),
                          type=match["type"], state=_STATUS_STATION[match["status"]], raw=line)
                for line, match in readable(rows, _STATION_LINE.match, bad)]
    return stations, bad


def parse_mode(text: str) -> tuple[OperatingMode | None, BadLines]:
    values, bad = key_values(text)
    mode, control = values.get("DAY/NIGHT MODE"), values.get("CONTROL")
    if mode not in _MODES or control not in ("AUTO", "MANUAL"):
        return None, bad or [(0, "missing DAY/NIGHT MODE or CONTROL")]
    return OperatingMode(mode=_MODES[mode], automatic=control == "AUTO",
                         raw=text.strip()), bad
