"""Scenario files for Toshiba sites, models and overlays: every mistake at its exact line."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.errors import ScenarioError
from simulators import CallRecord, Level, Mode, Status, load_scenario, parse_scenario

NOW = datetime(2026, 11, 27, 15, 48, 13)

# Line numbers are the 1-based lines of this text (line 1 is "site:").
TOSHIBA = textwrap.dedent("""\
    site:
      vendor: toshiba
      model: CTX670
      software_version: NA102MA2XXP1D12BXSEM.00
    time_service: {mode: DAY2, switching: MANUAL}
    cards:
      - {slot: 0, type: BCTU, firmware: "1.02"}
      - {slot: 1, type: PDKU, firmware: "1.00"}
      - {slot: 2, type: RDTU, firmware: "1.00"}
    extensions:
      - {number: 2001, slot: 1, port: 1, type: DKT, name: Reception, phantoms: [2900, 2901]}
      - {number: 2002, slot: 1, port: 2, type: EKT, pin: "4321", forward_to: "0113496"}
    co_lines:
      - {number: 1, slot: 2, port: 1, kind: T1}
      - {number: 2, slot: 2, port: 2}
    error_log:
      - {ago: 2d, code: 4300, equipment: "010200"}
      - {ago: 1d, code: 4390, equipment: "010200", severity: MINOR}
      - {at: 2026-11-27 09:00, code: 1012, equipment: "010000", active: true}
    """)


def clock() -> datetime:
    return NOW


def error_of(text: str, path: str = "site.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, path=path, host_clock=clock)
    return info.value


def test_a_toshiba_site() -> None:
    pbx = parse_scenario(TOSHIBA, host_clock=clock)
    assert (pbx.system.vendor, pbx.system.model) == ("Toshiba", "CTX670")
    assert (pbx.time_service.mode, pbx.time_service.automatic) == (Mode.LUNCH, False)
    reception, other = pbx.extension("2001"), pbx.extension("2002")
    assert (reception.ext_type, reception.phantoms) == ("DPT", ("2900", "2901"))
    assert (other.ext_type, other.pin, other.forward_to) == ("APT", "4321", "0113496")
    assert [x.kind for x in pbx.co_lines()] == ["PRI", "PRI"]
    log = [(e.code, e.level, e.sub_code, e.active) for e in pbx.error_log()]
    assert log == [(300, Level.MJ, "10200", False), (390, Level.MN, "10200", False),
                   (12, Level.MJ, "10000", True)]


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("model: CTX670", "model: CTX999", 3, "unknown Toshiba model 'CTX999'"),
    ("NA102MA2XXP1D12BXSEM.00", "SA102MA2XXP1D12BXSEM.00", 4, "starts with N, not S"),
    ("NA102MA2XXP1D12BXSEM.00", "NA102MA2XXP1D12BXSEM", 4, "version code looks like"),
    ("mode: DAY2", "mode: LUNCH", 5, "mode must be one of DAY, DAY2, DAY3, HOLIDAY, NIGHT"),
    ("type: BCTU", "type: ACTU", 7, "processor is BCTU or BECU, not ACTU"),
    ("type: PDKU", "type: DLC16", 8, "unknown card type 'DLC16'"),
    ("{slot: 2, type: RDTU", "{slot: 9, type: RDTU", 9, "no place for a card in cabinet 1 slot 09"),
    ("type: DKT", "type: DPT", 11, "type must be one of DKT, EKT, IPT, STD"),
    ("phantoms: [2900, 2901]", "phantoms: [2900, 2001]", 11,
     "directory number 2001 already exists"),
    ("phantoms: [2900, 2901]", "phantoms: [2900, 2002]", 12, "extension 2002 already exists"),
    ("phantoms: [2900, 2901]", "phantoms: [29x0]", 11, "phantom DN is digits only"),
    ('pin: "4321"', 'pin: "43"', 12, "a PIN is 4-10 digits"),
    ('forward_to: "0113496"', 'forward_to: "0113-496"', 12, "forward_to is digits only"),
    ("kind: T1}", "kind: LCOT}", 14, "kind must be one of BRI, DID, EM, IP, LS, PRI, T1"),
    ("kind: T1}", "kind: BRI}", 14, "RDTU carries PRI lines, not BRI"),
    ("code: 4300", "code: 2300", 17, "no Toshiba alarm code 2300"),
    ("code: 4300", "code: 1300", 17, "no Toshiba alarm code 1300"),
    ("code: 4300", "code: 999", 17, "code must be 1000-6999"),
    ('equipment: "010200"}\n  - {ago: 1d', 'equipment: "0102"}\n  - {ago: 1d', 17,
     "equipment is xxyyzz"),
    ('equipment: "010200"}\n  - {ago: 1d', 'equipment: "080200"}\n  - {ago: 1d', 17,
     "equipment is xxyyzz"),
    ("severity: MINOR", "severity: LOW", 18, "severity must be one of MAJOR, MINOR"),
    ("{ago: 2d, code", "{ago: 2d, level: MJ, code", 17, "unknown key 'level'"),
])
def test_toshiba_mistakes_are_located(old: str, new: str, line: int, message: str) -> None:
    assert old in TOSHIBA
    err = error_of(TOSHIBA.replace(old, new, 1))
    assert message in err.message, err.message
    assert err.line == line


PANASONIC = textwrap.dedent("""\
    site:
      vendor: panasonic
      model: KX-NS700
      software_version: PCMPR Software File Version 4.1000
    cards:
      - {slot: 0, type: NS-MB, model: KX-NS700, firmware: "4.1000"}
      - {slot: 51, type: V-IPEXT, model: KX-NSM, firmware: "4.1000"}
    extensions:
      - {number: 201, slot: 51, port: 32, type: IPPT}
    """)


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("model: KX-NS700\n  software", "model: KX-NS900\n  software", 3,
     "unknown Panasonic model 'KX-NS900'"),
    ("PCMPR Software", "PMPR Software", 4, "version looks like 'PCMPR Software File"),
    ("{slot: 51, type: V-IPEXT", "{slot: 5, type: V-IPEXT", 7,
     "no place for a virtual card in cabinet 1 slot 05"),
    ("{slot: 51, type: V-IPEXT", "{slot: 67, type: V-IPEXT", 7, "virtual slots 51-66"),
    ("type: IPPT}", "type: IPPT, phantoms: [300]}", 9, "a Toshiba feature"),
    ("{slot: 0, type: NS-MB, model: KX-NS700, ", "{slot: 0, type: NS-MB, ", 6,
     "card needs 'model'"),
    ("port: 32,", "port: 33,", 9, "V-IPEXT has ports 1-32, not 33"),
])
def test_panasonic_model_mistakes(old: str, new: str, line: int, message: str) -> None:
    assert old in PANASONIC
    err = error_of(PANASONIC.replace(old, new, 1))
    assert message in err.message, err.message
    assert err.line == line


# --- overlays ------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_an_overlay_extends_its_base(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", TOSHIBA + "smdr: {calls: 30, span: 1d, seed: 3}\n")
    overlay = write(tmp_path, "overlay.yaml", """\
        description: the base, with trunk 1 out
        base: base.yaml
        clock: 2026-11-24 10:30:00
        faults:
          - {kind: trunk_busied_out, co: 1}
        """)
    with pytest.raises(ScenarioError, match="only analogue lines"):
        load_scenario(overlay, host_clock=clock)
    write(tmp_path, "overlay.yaml", """\
        base: base.yaml
        clock: 2026-11-24 10:30:00
        time_service: {mode: NIGHT}
        cards:
          - {slot: 3, type: RCOU, firmware: "1.00"}
        co_lines:
          - {number: 3, slot: 3, port: 1}
        error_log:
          - {ago: 1h, code: 6510, equipment: "010000"}
        faults:
          - {kind: trunk_busied_out, co: 3}
        """)
    pbx = load_scenario(overlay, host_clock=clock)
    assert pbx.now() == datetime(2026, 11, 24, 10, 30)
    assert pbx.time_service.mode is Mode.NIGHT
    assert pbx.co_line(3).status is Status.OUS
    when = {e.code: e.when for e in pbx.error_log()}
    assert when[300] == datetime(2026, 11, 22, 10, 30)  # the base's "ago", at this clock
    assert when[510] == datetime(2026, 11, 24, 9, 30)
    calls = [i for _, i in pbx.smdr_items() if isinstance(i, CallRecord)]
    assert calls and max(c.ended for c in calls) <= pbx.now()
    assert min(c.ended for c in calls) >= pbx.now() - timedelta(days=1)


def test_base_mistakes(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", TOSHIBA.replace("type: PDKU", "type: WIDGET"))
    overlay = write(tmp_path, "o.yaml", "description: x\nbase: broken.yaml\n")
    err = error_of(overlay.read_text(), path=str(overlay))
    assert (Path(err.path or "").name, err.line) == ("broken.yaml", 8)
    err = error_of("base: panasonic-healthy\nsite: {vendor: panasonic}\n")
    assert (err.line, err.message) == (2, "a scenario with a 'base' takes its site from the base")
    err = error_of("base: nowhere\n")
    assert "no scenario named 'nowhere'" in err.message
    loop_a = write(tmp_path, "a.yaml", "base: b.yaml\n")
    write(tmp_path, "b.yaml", "\n\nbase: a.yaml\n")
    err = error_of(loop_a.read_text(), path=str(loop_a))
    assert (Path(err.path or "").name, err.line) == ("b.yaml", 3)
    assert "form a loop through a.yaml" in err.message


@pytest.mark.parametrize(("tail", "line", "message"), [
    ("smdr: {calls: 9999}\n", 2, "calls must be 0-1500"),
    ("smdr: {calls: 10, span: forever}\n", 2, "span must be a duration"),
    ("smdr: {calls: 10, seed: 1, rate: 3}\n", 2, "unknown key 'rate' in smdr"),
    ("faults:\n  - {kind: power_cut, minutes: 100000}\n", 3, "minutes must be 0-99999"),
    ("faults:\n  - {kind: power_cut, minutes: 0}\n", 3, "a power cut lasts"),
    ("faults:\n  - {kind: dead_card, slot: 0}\n", 3, "use processor_failure"),
    ("faults:\n  - {kind: dead_card, slot: 1, code: 232}\n", 3, "200-207, 230 or 231"),
    ("faults:\n  - {kind: voicemail_failure, slot: 1}\n", 3, "not a voicemail card"),
    ("faults:\n  - {kind: clock_failure, slot: 3}\n", 3, "not a digital trunk card"),
])
def test_overlay_mistakes_are_located(tail: str, line: int, message: str) -> None:
    err = error_of("base: panasonic-healthy\n" + tail)
    assert message in err.message, err.message
    assert err.line == line
