"""Toshiba Strata parsers on the formats of docs/dialects/toshiba.md and DOMAIN.md."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from agent.errors import InputError
from drivers.model import (
    AlarmLevel,
    CallDirection,
    CardStatus,
    ExtensionState,
    Location,
    TrunkKind,
    TrunkState,
)
from drivers.toshiba import parsers, programs
from drivers.toshiba.smdr import parse_smdr

ALARMS = (
    "DATE     TIME     CODE CATEGORY SEV   EQUIP  DESCRIPTION\r"
    "11/27/26 15:48:13 2230 PCB      MAJOR 010300 PCB NOT RESPONDING\r"
    "11/27/26 15:40:02 3330 TRUNK    MINOR 010402 CO LINE NO LOOP CURRENT\r"
).replace("\r", "\n")


def test_version_code_decodes_by_position() -> None:
    code = parsers.decode_version("NA102MA2XXP1D12BXSEM.00")
    assert code is not None
    assert (code.product, code.country, code.release) == ("CTX670/CIX670", "A", "R1.02")
    assert (code.software, code.ipl, code.dtmf, code.patch) == ("MA2XX", "P1", "D12", "00")
    assert all(code.equipment.values())
    partial = parsers.decode_version("SA102MA2XXP1D12B--E-.01")
    assert partial is not None and partial.product == "CTX100/CIX100"
    assert partial.equipment == {"bbms": True, "bexs": False, "bsis": False, "ethernet": True,
                                 "modem": False}
    assert parsers.decode_version("NOT-A-CODE") is None


def test_show_version() -> None:
    info, bad = parsers.parse_version(
        "SYSTEM  : STRATA CTX670\nVERSION : NA102MA2XXP1D12BXSEM.00\n")
    assert bad == [] and info is not None
    assert (info.vendor, info.model, info.software_version) == (
        "toshiba", "CTX670", "NA102MA2XXP1D12BXSEM.00")


def test_alarms_keep_code_category_and_equipment() -> None:
    alarms, bad = parsers.parse_alarms(ALARMS)
    assert bad == []
    pcb, trunk = alarms
    assert (pcb.level, pcb.code, pcb.sub_code) == (AlarmLevel.MAJOR, "2230", "010300")
    assert pcb.location == Location(cabinet=1, slot=3, port=None)
    assert pcb.first_seen == datetime(2026, 11, 27, 15, 48, 13)
    assert trunk.location == Location(1, 4, 2)
    assert parsers.parse_alarms("NO ACTIVE ALARM\n") == ([], [])
    assert parsers.parse_alarm_history("ALARM HISTORY EMPTY\n") == ([], [])


def test_pcbs_trunks_stations_and_mode() -> None:
    cards, bad = parsers.parse_pcbs("SLOT PCB   VER      STATUS\n0100 BCTU  1.02     IN-SVC\n"
                                    "0103 RCOU  1.00     FAULT\n")
    assert bad == []
    assert [(c.type, c.status) for c in cards] == [("BCTU", CardStatus.IN_SERVICE),
                                                    ("RCOU", CardStatus.FAULT)]
    assert cards[1].location == Location(1, 3)
    trunks, bad = parsers.parse_trunks("TRK  EQUIP  TYPE STATUS\nT001 010301 LS   IN-SVC\n"
                                       "T009 010501 PRI  OUT-SVC\n")
    assert bad == []
    assert (trunks[1].number, trunks[1].kind, trunks[1].state, trunks[1].busied_out) == (
        9, TrunkKind.PRI, TrunkState.OUT_OF_SERVICE, True)
    stations, bad = parsers.parse_stations(
        "PDN   EQUIP  TYPE NAME             STATUS\n2001  010101 DKT  Reception        IDLE\n"
        "2002  010102 DKT                   NOT-CONN\n2003  010103 STD  Night Service    BUSY\n")
    assert bad == []
    assert [(s.number, s.name, s.state) for s in stations] == [
        ("2001", "Reception", ExtensionState.IDLE), ("2002", "", ExtensionState.NOT_CONNECTED),
        ("2003", "Night Service", ExtensionState.BUSY)]
    mode, bad = parsers.parse_mode("DAY/NIGHT MODE : DAY2\nCONTROL        : MANUAL\n")
    assert bad == [] and mode is not None
    assert (mode.mode, mode.automatic) == ("lunch", False)


def test_smdr_published_sample_and_second_line() -> None:
    text = ("N 001 00 DN1234 T000001 06/28 12:10:50 00:10:30.0 12134567890\n"
            "N 002 00 T000003 DN2001 11/27 09:15:00 00:02:05.0\n"
            "& 01134960123       2201\n"
            "B 003 00 T000004 DN2001 11/27 09:20:00 00:00:00.0\n")
    records, bad = parse_smdr(text, today=date(2026, 11, 27))
    assert bad == []
    outgoing, incoming, abandoned = records
    assert outgoing.direction is CallDirection.OUTGOING
    assert (outgoing.extension, outgoing.trunk, outgoing.dialled) == ("1234", "1", "12134567890")
    assert outgoing.duration_s == 630
    assert outgoing.ended_at == datetime(2026, 6, 28, 12, 21, 20)
    assert incoming.direction is CallDirection.INCOMING
    assert (incoming.caller_id, incoming.ddi) == ("01134960123", "2201")
    assert abandoned.condition == "B"


def test_smdr_year_rolls_back_over_new_year() -> None:
    (record,), _ = parse_smdr("N 005 00 DN2001 T000001 12/31 23:59:00 00:00:10.0 999\n",
                              today=date(2027, 1, 1))
    assert record.ended_at is not None and record.ended_at.year == 2026


def test_smdr_garbage_is_reported() -> None:
    records, bad = parse_smdr("& orphan\nX nonsense\nNO SMDR RECORD\n", today=date(2026, 1, 1))
    assert records == [] and [n for n, _ in bad] == [1, 2]


def test_programs_map_settings() -> None:
    assert programs.address("extension_name", "2001") == "200 2001"
    assert programs.address("trunk_state", "9") == "300 009"
    assert programs.parse_reply('200 2001 : "Reception"', "200 2001") == '"Reception"'
    assert programs.from_pbx("time_service_mode", "DAY3 AUTO") == "break"
    assert programs.to_pbx("time_service_mode", "night", current=lambda: "DAY AUTO") == (
        "NIGHT AUTO")
    assert programs.to_pbx("clock", "2026-11-27T15:48:13", current=str) == "11/27/26 15:48:13"
    assert programs.to_pbx("trunk_state", "busied_out", current=str) == "OUT-SVC"
    with pytest.raises(InputError):
        programs.to_pbx("extension_pin", "12", current=str)


def test_version_details_carry_modem_and_ethernet_flags() -> None:
    info, _ = parsers.parse_version("SYSTEM  : STRATA CTX100\nVERSION : SA102MA2XXP1D12B--E-.01\n")
    assert info is not None
    assert info.details["release"] == "R1.02"
    assert info.details["equipment"]["ethernet"] is True
    assert info.details["equipment"]["modem"] is False
