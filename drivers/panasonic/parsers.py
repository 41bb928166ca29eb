"""Pure parsers from Panasonic console text (docs/dialects/panasonic.md) to the model.

Each returns ``(items, bad_lines)``: a line that does not fit is reported with its number,
never silently dropped or half-read. An explicit "nothing here" reply (``NO ALARM``,
``NO ERROR LOG``) is an empty list with no bad lines — distinct from unparseable text.
"""

from __future__ import annotations

import re

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
from drivers.textparse import (
    BadLines,
    content_lines,
    day_month_year,
    key_values,
    readable,
    table,
)

ERROR_LOG_LINE = re.compile(
    r"^(?P<date>\d\d/\d\d/\d\d) (?P<time>\d\d:\d\d) {4}(?P<level>MJ|MN) ALM "
    r"#(?P<code>\d{3}) (?P<fixed>\d\d) (?P<sub>\d{5}|[0-9*]{8}) (?P<message>.{0,36})$",
    re.ASCII,
)
_VERSION_LINE = re.compile(r"^(?P<file>P[A-Z]*MPR) Software File Version (?P<version>\S+)$",
                           re.ASCII)
_CARD_LINE = re.compile(
    r"^\s*(?P<cab>\d)\s+(?P<slot>\d\d)\s+(?P<type>\S+)\s+(?P<model>\S+)\s+(?P<fw>\S+)"
    r"\s+(?P<status>INS|OUS|FLT)\s*$",
    re.ASCII,
)
_CO_LINE = re.compile(
    r"^\s*(?P<co>\d{1,4})\s+(?P<cab>\d)\s+(?P<slot>\d\d)\s+(?P<port>\d\d)\s+"
    r"(?P<kind>LCOT|BRI|PRI|SIP)\s+(?P<status>INS|OUS|FLT)\s*$",
    re.ASCII,
)
_EXT_LINE = re.compile(
    r"^(?P<ext>\d{1,8})\s+(?P<cab>\d)\s+(?P<slot>\d\d)\s+(?P<port>\d\d)\s+(?P<type>[A-Z]+)\s"
    r"(?P<name>.*?)\s+(?P<status>IDLE|BUSY|OUS|FLT|NC)\s*$",
    re.ASCII,
)

_CARD_STATUS = {"INS": CardStatus.IN_SERVICE, "OUS": CardStatus.OUT_OF_SERVICE,
                "FLT": CardStatus.FAULT}
_TRUNK_STATUS = {"INS": TrunkState.IN_SERVICE, "OUS": TrunkState.OUT_OF_SERVICE,
                 "FLT": TrunkState.FAULT}
_TRUNK_KIND = {"LCOT": TrunkKind.ANALOGUE, "BRI": TrunkKind.BRI, "PRI": TrunkKind.PRI,
               "SIP": TrunkKind.SIP}
_EXT_STATUS = {"IDLE": ExtensionState.IDLE, "BUSY": ExtensionState.BUSY,
               "OUS": ExtensionState.OUT_OF_SERVICE, "FLT": ExtensionState.FAULT,
               "NC": ExtensionState.NOT_CONNECTED}
_MODES = frozenset({"DAY", "NIGHT", "LUNCH", "BREAK", "HOLIDAY"})


def location_from_sub_code(sub: str) -> Location | None:
    """``XYYZZ`` (cabinet, slot, port; 00 = not applicable). KX-NS's 8-digit
    ``BBWXYYZZ`` keeps its last five digits; a ``*`` virtual slot has no location."""
    tail = sub[-5:]
    if not tail.isdigit():
        return None
    cabinet, slot, port = int(tail[0]), int(tail[1:3]), int(tail[3:5])
    return Location(cabinet=cabinet, slot=slot, port=port or None)


def parse_error_line(line: str) -> Alarm | None:
    match = ERROR_LOG_LINE.match(line.rstrip())
    if match is None:
        return None
    try:
        seen = day_month_year(match["date"], match["time"])
    except ValueError:
        return None
    return Alarm(
        level=AlarmLevel.MAJOR if match["level"] == "MJ" else AlarmLevel.MINOR,
        code=match["code"],
        sub_code=match["sub"],
        location=location_from_sub_code(match["sub"]),
        message=match["message"].rstrip(),
        first_seen=seen,
        raw=line.rstrip(),
    )


def parse_error_log(text: str, *, empty_marker: str = "NO ERROR LOG") -> tuple[list[Alarm],
                                                                            BadLines]:
    rows = [(n, line) for n, line in content_lines(text) if line.strip() != empty_marker]
    bad: BadLines = []
    return [entry for _line, entry in readable(rows, parse_error_line, bad)], bad


def parse_alarms(text: str) -> tuple[list[Alarm], BadLines]:
    return parse_error_log(text, empty_marker="NO ALARM")


def parse_version(text: str) -> tuple[SystemInfo | None, BadLines]:
    model = version = None
    details: dict[str, str] = {}
    bad: BadLines = []
    for number, line in content_lines(text):
        found = _VERSION_LINE.match(line.strip())
        if found:
            version = line.strip()
            details = {"software_file": found["file"], "version": found["version"]}
            continue
        values, not_key_value = key_values(line)
        if not_key_value or set(values) != {"System Model"}:
            bad.append((number, line))
        else:
            model = values["System Model"]
    if model is None or version is None:
        return None, bad or [(0, "missing System Model or version line")]
    return SystemInfo(vendor="panasonic", model=model, software_version=version,
                      raw=text.strip(), details=details), bad


def parse_cards(text: str) -> tuple[list[Card], BadLines]:
    rows, bad = table(text, "CAB SLT CARD MODEL FIRMWARE STATUS")
    cards = [Card(location=Location(int(match["cab"]), int(match["slot"])),
                  type=match["type"], model_number=match["model"], firmware=match["fw"],
                  status=_CARD_STATUS[match["status"]], raw=line)
             for line, match in readable(rows, _CARD_LINE.match, bad)]
    return cards, bad


def parse_trunks(text: str) -> tuple[list[Trunk], BadLines]:
    rows, bad = table(text, "CO CAB SLT PRT KIND STATUS")
    trunks = [Trunk(number=int(match["co"]), location=_port(match),
                    kind=_TRUNK_KIND[match["kind"]], state=_TRUNK_STATUS[match["status"]],
                    busied_out=match["status"] == "OUS", raw=line)
              for line, match in readable(rows, _CO_LINE.match, bad)]
    return trunks, bad


def parse_extensions(text: str) -> tuple[list[Extension], BadLines]:
    rows, bad = table(text, "EXT CAB SLT PRT TYPE NAME STATUS")
    extensions = [Extension(number=match["ext"], name=match["name"].strip(),
                            location=_port(match), type=match["type"],
                            state=_EXT_STATUS[match["status"]], raw=line)
                  for line, match in readable(rows, _EXT_LINE.match, bad)]
    return extensions, bad


def _port(match: re.Match[str]) -> Location:
    return Location(int(match["cab"]), int(match["slot"]), int(match["port"]))


def parse_mode(text: str) -> tuple[OperatingMode | None, BadLines]:
    values, bad = key_values(text)
    mode, switching = values.get("TIME SERVICE"), values.get("SWITCHING")
    if mode is None or switching not in ("AUTO", "MANUAL"):
        return None, bad or [(0, "missing TIME SERVICE or SWITCHING")]
    if mode not in _MODES:
        return None, [*bad, (0, f"unknown time service {mode[:24]!r}")]
    return OperatingMode(mode=mode.lower(), automatic=switching == "AUTO",
                         raw=text.strip()), bad
