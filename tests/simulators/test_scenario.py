"""Scenario files: the shipped sites load; every mistake is reported at its exact line."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from agent.errors import ScenarioError
from simulators import (
    SCENARIO_DIR,
    Mode,
    Status,
    load_scenario,
    parse_scenario,
    resolve_scenario,
    scenario_names,
)

NOW = datetime(2026, 11, 27, 15, 48, 13)

# Line numbers are the 1-based lines of this text (line 1 is "site:").
BASE = textwrap.dedent("""\
    site:
      vendor: panasonic
      model: KX-TDE200
      software_version: PMPR Software File Version 5.0000
    cards:
      - {slot: 0, type: IPCMPR, model: KX-TDE0101, firmware: 5.0000}
      - {slot: 1, type: DLC16, model: KX-TDA0172, firmware: 1.0100}
      - slot: 3
        type: LCOT8
        model: KX-TDA0180
        firmware: 2.1000
    extensions:
      - {number: 201, slot: 1, port: 1, type: DPT}
    """)


def clock() -> datetime:
    return NOW


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, path="site.yaml", host_clock=clock)
    return info.value


def test_shipped_scenarios_are_listed_and_load() -> None:
    assert {"panasonic-healthy", "panasonic-dead-trunk-card"} <= set(scenario_names())
    for name in scenario_names():
        load_scenario(name)


def test_the_healthy_site(tmp_path: Path) -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    assert pbx.system.model == "KX-TDE200"
    assert pbx.system.software_version == "PMPR Software File Version 5.0000"
    assert [(c.slot, c.card_type, c.model_number) for c in pbx.cards()] == [
        (0, "IPCMPR", "KX-TDE0101"), (1, "DLC16", "KX-TDA0172"),
        (2, "SLC8", "KX-TDA0173"), (3, "LCOT8", "KX-TDA0180")]
    exts = pbx.extensions()
    assert [e.number for e in exts] == [str(n) for n in range(201, 225)]
    assert {e.ext_type for e in exts if e.slot == 1} == {"DPT"}
    assert {e.ext_type for e in exts if e.slot == 2} == {"SLT"}
    assert pbx.extension("201").name == "Reception"
    assert [x.number for x in pbx.co_lines()] == list(range(1, 9))
    assert {x.status for x in pbx.co_lines()} == {Status.INS}
    assert pbx.active_alarms() == []
    assert any(e.code == 330 for e in pbx.error_log())
    assert pbx.time_service.mode is Mode.DAY


def test_the_dead_trunk_card_site() -> None:
    pbx = load_scenario("panasonic-dead-trunk-card", host_clock=clock)
    assert pbx.card(3).status is Status.FLT
    assert {x.status for x in pbx.co_lines()} == {Status.FLT}
    alarms = pbx.active_alarms()
    assert [(a.level.value, a.code, a.sub_code, a.message) for a in alarms] == [
        ("MJ", 230, "10300", "Card disconnected")]
    assert [f.kind for f in pbx.active_faults()] == ["dead_card"]


def test_load_by_path_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(BASE)
    assert load_scenario(path).system.model == "KX-TDE200"
    assert load_scenario(str(path)).system.model == "KX-TDE200"
    assert resolve_scenario("panasonic-healthy") == SCENARIO_DIR / "panasonic-healthy.yaml"
    with pytest.raises(ScenarioError, match="no scenario named 'nope'"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")


def test_strings_keep_their_text() -> None:
    pbx = parse_scenario(BASE, host_clock=clock)
    assert [c.firmware for c in pbx.cards()] == ["5.0000", "1.0100", "2.1000"]
    assert pbx.extension("201").number == "201"


def test_the_error_names_file_and_line() -> None:
    err = error_of(BASE + "colour: blue\n")
    assert (err.path, err.line) == ("site.yaml", 14)
    assert str(err).startswith("site.yaml:14: unknown key 'colour' in the scenario")


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("  model: KX-TDE200", "  model: TDE200", 3, "a Panasonic model looks like"),
    ("  vendor: panasonic", "  vendor: siemens", 2, "vendor must be one of"),
    ("  vendor: panasonic\n", "", 1, "site needs 'vendor'"),
    ("  model: KX-TDE200", "  model: KX-TDE200\n  model: KX-TDE100", 4, "duplicate key 'model'"),
    ("firmware: 5.0000}", "firmware: 5.0000, colour: red}", 6, "unknown key 'colour' in card"),
    ("slot: 0,", "slot: zero,", 6, "slot must be a whole number"),
    ("  - slot: 3\n", "  - slot: 300\n", 8, "slot must be 0-99, not 300"),
    ("    type: LCOT8", "    type: WIDGET", 9, "unknown card type 'WIDGET'"),
    ("    firmware: 2.1000", "    firmware: [2]", 11, "firmware must be a single value"),
    ("  - slot: 3\n", "  - slot: 1\n", 8, "already has a card"),
    ("{slot: 0, type: IPCMPR", "{slot: 4, type: IPCMPR", 6, "holds the processor, and only it"),
    ("{slot: 0, type: IPCMPR", "{slot: 0, type: MPR", 6, "processor is IPCMPR, not MPR"),
    ("  - slot: 3\n", "  - slot: 12\n", 8,
     "KX-TDE200 has no place for a card in cabinet 1 slot 12"),
    ("    type: LCOT8", "    type: RCOU", 9, "unknown card type 'RCOU'"),
    ("number: 201,", "number: 2x1,", 13, "digits only"),
    ("port: 1,", "port: 17,", 13, "DLC16 has ports 1-16, not 17"),
    ("type: DPT}", "type: DPT, name: The Managing Director}", 13, "at most 16 characters"),
    ("type: DPT}", "type: XYZ}", 13, "type must be one of APT, DPT, IPPT, SLT"),
    ("slot: 1, port: 1, type: DPT", "slot: 3, port: 1, type: DPT", 13,
     "extension: slot 03 holds LCOT8, which has no extension ports"),
    ("extensions:\n  - {number: 201, slot: 1, port: 1, type: DPT}\n", "extensions: none\n", 12,
     "extensions must be a list"),
])
def test_mistakes_are_located(old: str, new: str, line: int, message: str) -> None:
    assert old in BASE
    err = error_of(BASE.replace(old, new, 1))
    assert err.line == line
    assert message in err.message


def test_yaml_syntax_error_line() -> None:
    err = error_of(BASE.replace("    type: LCOT8", "    type: [LCOT8"))
    assert err.line is not None and err.line >= 8
    assert "not valid YAML" in err.message


def test_empty_and_non_mapping_documents() -> None:
    assert error_of("").message == "the scenario file is empty"
    assert error_of("- a\n- b\n").message == "the scenario must be a mapping"


def test_missing_top_level_keys() -> None:
    err = error_of("site:\n  vendor: panasonic\n  model: KX-TDE200\n"
                   "  software_version: v\n")
    assert (err.line, err.message) == (1, "the scenario needs 'cards'")


LOG = textwrap.dedent("""\
    clock: 2026-11-27 15:48:13
    time_service: {mode: night, switching: manual}
    co_lines:
      - {number: 1, slot: 3, port: 1, kind: LCOT, status: OUS}
    error_log:
      - {ago: 30d, level: MN, code: 330, sub_code: 10301, message: Loop current detection error}
      - {at: 2026-11-27 09:00, level: MJ, code: 12, sub_code: "10000", message: RAM battery low,
         active: true}
    """)


def test_log_history_clock_and_mode() -> None:
    pbx = parse_scenario(BASE + LOG, host_clock=lambda: datetime(2020, 1, 1))
    assert pbx.now() == NOW
    assert (pbx.time_service.mode, pbx.time_service.automatic) == (Mode.NIGHT, False)
    assert pbx.co_line(1).status is Status.OUS
    log = pbx.error_log()
    assert [(e.when, e.code, e.active) for e in log] == [
        (datetime(2026, 10, 28, 15, 48, 13), 330, False), (datetime(2026, 11, 27, 9), 12, True)]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("{ago: 30d,", "{ago: a month,", "ago must be a duration"),
    ("{ago: 30d,", "{ago: 30d, at: 2026-01-01,", "exactly one of 'at' or 'ago'"),
    ("sub_code: 10301", "sub_code: 50301", "sub_code is XYYZZ"),
    ("level: MN", "level: XX", "level must be one of MJ, MN"),
    ("code: 330", "code: 1330", "code must be 0-999"),
    ("active: true", "active: maybe", "active must be true or false"),
    ("Loop current detection error", "Loop current detection error on the line",
     "message must be at most 36 characters"),
    ("status: OUS}", "status: FLT}", "status must be one of INS, OUS"),
    ("mode: night", "mode: dusk", "mode must be one of"),
    ("clock: 2026-11-27 15:48:13", "clock: yesterday", "clock must be a date and time"),
])
def test_log_mistakes_are_located(old: str, new: str, message: str) -> None:
    text = BASE + LOG
    assert old in text
    line = text[:text.index(old)].count("\n") + 1
    err = error_of(text.replace(old, new, 1))
    assert message in err.message
    assert err.line == line


FAULTS = textwrap.dedent("""\
    co_lines:
      - {number: 1, slot: 3, port: 2, kind: LCOT}
    faults:
      - {kind: trunk_busied_out, co: 1}
      - kind: dead_card
        slot: 3
    """)


def test_faults_are_injected_in_order() -> None:
    pbx = parse_scenario(BASE + FAULTS, host_clock=clock)
    assert [a.code for a in pbx.active_alarms()] == [230, 330]
    assert pbx.co_line(1).status is Status.FLT


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("kind: dead_card", "kind: melted", 18, "unknown fault kind 'melted'"),
    ("    slot: 3\n", "    slot: 3\n    port: 2\n", 20,
     "unknown key 'port' in fault dead_card"),
    ("    slot: 3\n", "", 18, "fault dead_card needs 'slot'"),
    ("    slot: 3\n", "    slot: 5\n", 18, "fault: no card in cabinet 1 slot 05"),
    ("co: 1}", "co: 7}", 17, "fault: no CO line 07"),
    ("co: 1}", "co: one}", 17, "co must be a whole number"),
    ("{kind: trunk_busied_out, co: 1}", "trunk_busied_out", 17, "must be a mapping"),
    ("{kind: trunk_busied_out, co: 1}", "{co: 1}", 17, "a fault needs 'kind'"),
    ("  - {kind: trunk_busied_out, co: 1}\n",
     "  - {kind: trunk_busied_out, co: 1}\n  - {kind: trunk_busied_out, co: 1}\n", 18,
     "already active"),
])
def test_fault_mistakes_are_located(old: str, new: str, line: int, message: str) -> None:
    assert old in FAULTS
    err = error_of(BASE + FAULTS.replace(old, new, 1))
    assert message in err.message
    assert err.line == line
