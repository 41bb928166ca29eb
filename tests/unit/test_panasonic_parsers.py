"""Panasonic parsers on output captured from the simulator and on the real SMDR capture."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from drivers.model import AlarmLevel, CardStatus, ExtensionState, Location, TrunkKind, TrunkState
from drivers.panasonic import parsers

FIXTURES = Path(__file__).parent.parent / "fixtures" / "panasonic"
# A copy of shared/reference (a real capture), byte for byte, so the test never skips.
REFERENCE = Path(__file__).parent.parent / "fixtures" / "reference"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_version_gives_model_and_published_version_string() -> None:
    info, bad = parsers.parse_version(fixture("healthy.ver.txt"))
    assert bad == []
    assert info is not None
    assert (info.vendor, info.model) == ("panasonic", "KX-TDE200")
    assert info.software_version == "PMPR Software File Version 5.0000"


def test_error_log_lines_keep_codes_and_locations() -> None:
    entries, bad = parsers.parse_error_log(fixture("dead-trunk-card.err.txt"))
    assert bad == []
    assert [e.code for e in entries] == ["002", "330", "510", "230"]
    dead = entries[-1]
    assert dead.level is AlarmLevel.MAJOR
    assert dead.sub_code == "10300"
    assert dead.location == Location(cabinet=1, slot=3, port=None)
    assert dead.message == "Card disconnected"
    assert dead.raw.startswith(dead.first_seen.strftime("%d/%m/%y %H:%M") if dead.first_seen
                               else "?")
    loop = entries[1]
    assert loop.location == Location(cabinet=1, slot=3, port=5)
    assert entries[0].location == Location(cabinet=1, slot=0, port=None)  # the MPR


def test_no_alarm_is_empty_not_unparseable() -> None:
    assert parsers.parse_alarms(fixture("healthy.alm.txt")) == ([], [])
    assert parsers.parse_error_log("NO ERROR LOG\n") == ([], [])
    alarms, bad = parsers.parse_alarms("garbage line\n")
    assert alarms == [] and bad == [(1, "garbage line")]


def test_active_alarm_of_dead_card() -> None:
    (alarm,), bad = parsers.parse_alarms(fixture("dead-trunk-card.alm.txt"))
    assert bad == []
    assert (alarm.level, alarm.code, alarm.sub_code) == (AlarmLevel.MAJOR, "230", "10300")


def test_cards_and_the_dead_one() -> None:
    cards, bad = parsers.parse_cards(fixture("dead-trunk-card.card.txt"))
    assert bad == []
    assert [c.type for c in cards] == ["IPCMPR", "DLC16", "SLC8", "LCOT8"]
    assert [c.status for c in cards].count(CardStatus.FAULT) == 1
    assert cards[3].location == Location(1, 3) and cards[3].model_number == "KX-TDA0180"


def test_trunks_of_dead_card_are_all_fault() -> None:
    trunks, bad = parsers.parse_trunks(fixture("dead-trunk-card.co.txt"))
    assert bad == []
    assert [t.number for t in trunks] == list(range(1, 9))
    assert {t.state for t in trunks} == {TrunkState.FAULT}
    assert {t.kind for t in trunks} == {TrunkKind.ANALOGUE}
    assert not any(t.busied_out for t in trunks)
    healthy, _ = parsers.parse_trunks(fixture("healthy.co.txt"))
    assert {t.state for t in healthy} == {TrunkState.IN_SERVICE}


def test_extension_names_with_spaces_and_blank_names() -> None:
    extensions, bad = parsers.parse_extensions(fixture("healthy.ext.txt"))
    assert bad == []
    by_number = {e.number: e for e in extensions}
    assert by_number["208"].name == "Customer Service"
    assert by_number["214"].name == ""
    assert by_number["216"].state is ExtensionState.NOT_CONNECTED
    assert by_number["217"].type == "SLT" and by_number["217"].location == Location(1, 2, 1)


def test_mode() -> None:
    mode, bad = parsers.parse_mode(fixture("healthy.mode.txt"))
    assert bad == [] and mode is not None
    assert (mode.mode, mode.automatic) == ("day", True)


def test_table_without_header_is_reported() -> None:
    cards, bad = parsers.parse_cards("  1  00 IPCMPR   KX-TDE0101   5.0000   INS\n")
    assert len(cards) == 1
    assert bad == [(0, "missing header 'CAB SLT CARD MODEL FIRMWARE STATUS'")]


def test_truncated_row_is_reported_not_dropped() -> None:
    text = fixture("healthy.co.txt").splitlines()
    text[3] = text[3][:9]
    trunks, bad = parsers.parse_trunks("\n".join(text))
    assert len(trunks) == 7
    assert bad == [(4, text[3].rstrip())]


def test_alarm_lines_in_real_smdr_capture() -> None:
    capture = (REFERENCE / "panasonic-smdr-capture.txt").read_text()
    alarms = [a for a in map(parsers.parse_error_line, capture.splitlines()) if a is not None]
    assert len(alarms) == 7
    first = alarms[0]
    assert first.first_seen == datetime(2011, 1, 6, 14, 44)
    assert (first.level, first.code, first.sub_code, first.message) == (
        AlarmLevel.MINOR, "510", "10000", "SMDR disconnect")
    assert first.location == Location(cabinet=1, slot=0, port=None)
