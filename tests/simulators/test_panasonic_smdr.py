"""Panasonic SMDR (pattern A), the error log on SMDR, and the call generator.

The reference capture is a real Panasonic SMDR stream: every line of it, parsed into the
state's records and rendered again, must come back byte for byte.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from simulators import (
    CallGenerator,
    CallKind,
    CallRecord,
    Level,
    LogEntry,
    PbxState,
    SystemIdentity,
    load_scenario,
    session_for,
)
from simulators.console_base import LineSession
from simulators.panasonic.smdr import HEADER, RULE, WIDTHS, format_call, format_log_entry

REPO = Path(__file__).resolve().parents[2]
CAPTURE = REPO / "tests" / "fixtures" / "reference" / "panasonic-smdr-capture.txt"
DOMAIN = REPO.parent / "shared" / "DOMAIN.md"
NOW = datetime(2026, 11, 27, 15, 48, 13)
ALARM = re.compile(r"^(\d\d/\d\d/\d\d \d\d:\d\d) {4}(MJ|MN) ALM #(\d{3}) 00 (\d{5}) (.*)$")


def clock() -> datetime:
    return NOW


def parse_seconds(text: str, pattern: str) -> int | None:
    match = re.fullmatch(pattern, text.strip())
    if match is None:
        assert not text.strip(), f"bad time field {text!r}"
        return None
    parts = [int(g) for g in match.groups()]
    total = 0
    for part in parts:
        total = total * 60 + part
    return total


def parse_record(line: str) -> CallRecord:
    """A pattern-A line into the state's record (the test's own reading of the columns)."""
    fields, pos = [], 0
    for width in WIDTHS:
        fields.append(line[pos:pos + width])
        assert line[pos + width:pos + width + 1] in ("", " ")
        pos += width + 1
    date, time, ext, co, dial, ring, duration, account, condition = fields
    dial = dial.strip()
    kind, number, ddi = CallKind.OUTGOING, dial, ""
    if dial.startswith("EXT"):
        kind, number = CallKind.INTERCOM, dial[3:]
    elif dial.startswith(("<I>", "<D>")):
        match = re.fullmatch(r"(?:<D>(\d*))?<I>(.*)", dial)
        assert match is not None
        kind, ddi, number = CallKind.INCOMING, match[1] or "", match[2]
    return CallRecord(
        ended=datetime.strptime(f"{date} {time.strip()}", "%d/%m/%y %H:%M"),
        extension=ext.strip(), kind=kind, number=number,
        co=int(co) if co.strip() else None, ddi=ddi,
        ring_s=parse_seconds(ring, r"(\d+)'(\d\d)"),
        duration_s=parse_seconds(duration, r"(\d\d):(\d\d)'(\d\d)"),
        account_code=account.strip(), condition=condition.strip())


def parse_alarm(line: str) -> LogEntry:
    match = ALARM.match(line)
    assert match is not None
    when = datetime.strptime(match[1], "%d/%m/%y %H:%M")
    return LogEntry(0, when, Level(match[2]), int(match[3]), match[4], match[5])


def render_again(line: str) -> str:
    if line.rstrip() == HEADER.rstrip():
        return HEADER
    if line == RULE:
        return RULE
    if ALARM.match(line):
        return format_log_entry(parse_alarm(line))
    return format_call(parse_record(line))


def capture_lines() -> list[str]:
    return CAPTURE.read_text(encoding="ascii").splitlines()


@pytest.mark.parametrize("line", capture_lines())
def test_every_reference_line_renders_back_byte_for_byte(line: str) -> None:
    assert render_again(line) == line


def test_the_whole_capture_renders_back() -> None:
    lines = capture_lines()
    assert "\n".join(render_again(line) for line in lines) + "\n" == CAPTURE.read_text()
    records = [line for line in lines if not ALARM.match(line) and "Date" not in line
               and line != RULE]
    assert records and all(len(line) == 80 for line in records)


def test_header_and_rule_are_80_columns() -> None:
    assert len(HEADER) == len(RULE) == 80
    assert sum(WIDTHS) + len(WIDTHS) == 80


@pytest.mark.skipif(not DOMAIN.exists(), reason="shared/DOMAIN.md not beside the repo")
def test_formats_match_domain_md() -> None:
    text = DOMAIN.read_text(encoding="utf-8")
    assert f"\n{HEADER.rstrip()}\n{RULE}\n" in text
    assert "`06/01/11 14:44    MN ALM #510 00 10000 SMDR disconnect`" in text
    entry = LogEntry(1, datetime(2011, 1, 6, 14, 44), Level.MN, 510, "10000", "SMDR disconnect")
    assert format_log_entry(entry) == "06/01/11 14:44    MN ALM #510 00 10000 SMDR disconnect"
    assert "`**/**/** **:****`" in text


@pytest.mark.parametrize(("record", "expected"), [
    (CallRecord(datetime(2011, 1, 6, 15, 11), "101", CallKind.OUTGOING, "09338665005", co=1,
                duration_s=39),
     "06/01/11 15:11     101 01 09338665005                    00:00'39               "),
    (CallRecord(datetime(2011, 1, 6, 9, 5), "1234", CallKind.INTERCOM, "1235", duration_s=65),
     "06/01/11 09:05    1234    EXT1235                        00:01'05               "),
    (CallRecord(datetime(2011, 1, 6, 9, 5), "1234", CallKind.INCOMING, "0113496", co=101,
                ddi="2201", condition="RC"),
     "06/01/11 09:05    1234 00 <D>2201<I>0113496" + " " * 34 + "RC "),
    (CallRecord(datetime(2011, 1, 6, 9, 5), "205", CallKind.OUTGOING, "0161496", co=2,
                duration_s=3 * 3600 + 1, account_code="9876543210", condition="FW",
                clock_changed=True),
     "**/**/** **:****   205 02 0161496" + " " * 24 + "03:00'01 9876543210 FW "),
    (CallRecord(datetime(2011, 1, 6, 9, 5), "205", CallKind.INCOMING, "", co=2, ring_s=700,
                duration_s=0, condition="NA"),
     "06/01/11 09:05     205 02 <I>                       9'59 00:00'00            NA "),
])
def test_record_fields(record: CallRecord, expected: str) -> None:
    assert format_call(record) == expected
    assert len(expected) == 80


# --- the SMDR command ---------------------------------------------------------------------


def console(pbx: PbxState) -> tuple[list[bytes], LineSession]:
    out: list[bytes] = []
    session = session_for(pbx, login_required=False, send=out.append, username="INSTALLER",
                          password=None)
    session.start()
    session.feed(b"PAGE OFF\r")
    out.clear()
    return out, session


def run(pbx: PbxState, command: str) -> list[str]:
    out, session = console(pbx)
    session.feed(command.encode() + b"\r")
    text = b"".join(out).decode("ascii")
    prompt = f"{pbx.system.model}> "
    assert text.startswith(command + "\r\n") and text.endswith(prompt)
    return text[len(command) + 2:-len(prompt)].split("\r\n")[:-1]


def empty_site() -> PbxState:
    return PbxState(SystemIdentity("Panasonic", "KX-TDE200", "PMPR Software File Version 5.0000"),
                    host_clock=clock)


def test_no_smdr_data() -> None:
    assert run(empty_site(), "SMDR") == ["NO SMDR DATA"]


def test_smdr_prints_records_and_alarms_in_order() -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    lines = run(pbx, "SMDR")
    assert lines[:2] == [HEADER, RULE]
    assert any(ALARM.match(line) for line in lines)
    records = [line for line in lines[2:] if not ALARM.match(line)]
    assert len(records) > 50
    for line in records:
        assert len(line) == 80
        assert render_again(line) == line
    assert any(line.endswith("RC ") for line in records)


def test_smdr_since_and_bad_times() -> None:
    pbx = empty_site()
    gen = CallGenerator(pbx, seed=4)
    gen.next_call(ended=datetime(2026, 11, 27, 9, 0))
    gen.next_call(ended=datetime(2026, 11, 27, 15, 0))
    # A site with no extensions makes no calls at all.
    assert run(pbx, "SMDR") == ["NO SMDR DATA"]
    site = load_scenario("panasonic-kx-tda100", host_clock=clock)
    newest = run(site, "SMDR")[-1]
    stamp = datetime.strptime(newest[:14], "%d/%m/%y %H:%M")
    since = run(site, f"SMDR SINCE {stamp:%d/%m/%y %H:%M}")
    assert since[:2] == [HEADER, RULE] and since[-1] == newest
    assert all(datetime.strptime(line[:14], "%d/%m/%y %H:%M") >= stamp for line in since[2:])
    assert run(site, "SMDR SINCE 31/02/26 10:00") == ["ERROR 02: INVALID PARAMETER"]
    assert run(site, "SMDR FROM 01/02/26 10:00") == ["ERROR 02: INVALID PARAMETER"]
    assert run(site, "SMDR SINCE 01/02/26") == ["ERROR 02: INVALID PARAMETER"]


def test_err_since() -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    everything = run(pbx, "ERR")
    assert len(everything) == 3
    recent = run(pbx, "ERR SINCE 27/10/26 00:00")
    assert recent == everything[1:]
    assert run(pbx, "ERR SINCE 27/11/26 15:49") == ["NO ERROR LOG"]
    assert run(pbx, "ERR SINCE 27-11-26 15:49") == ["ERROR 02: INVALID PARAMETER"]


def test_kx_ns_prints_eight_digit_sub_codes() -> None:
    pbx = load_scenario("panasonic-kx-ns700", host_clock=clock)
    out, session = console(pbx)
    session.feed(b"ERR\r")
    text = b"".join(out).decode()
    assert "MN ALM #310 00 01*15103 Port link failure\r\n" in text
    assert "MN ALM #330 00 01010201 Loop current detection error\r\n" in text
    assert "KX-NS700> " in text


# --- the generator ------------------------------------------------------------------------


def records_of(pbx: PbxState) -> list[CallRecord]:
    return [item for _, item in pbx.smdr_items() if isinstance(item, CallRecord)]


def test_generator_is_deterministic_for_a_seed() -> None:
    one = load_scenario("panasonic-healthy", host_clock=clock)
    two = load_scenario("panasonic-healthy", host_clock=clock)
    assert records_of(one) == records_of(two)
    for pbx in (one, two):
        gen = CallGenerator(pbx, seed=99)
        for i in range(20):
            gen.next_call(ended=NOW + timedelta(minutes=i))
    assert records_of(one) == records_of(two)
    three = load_scenario("panasonic-healthy", host_clock=clock)
    gen = CallGenerator(three, seed=100)
    for i in range(20):
        gen.next_call(ended=NOW + timedelta(minutes=i))
    assert records_of(three) != records_of(one)


def test_generator_makes_every_kind_of_record() -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    CallGenerator(pbx, seed=5).history(400, timedelta(days=5))
    records = records_of(pbx)
    assert {r.kind for r in records} == set(CallKind)
    assert {"", "RC", "AN", "NA", "TR", "FW"} <= {r.condition for r in records}
    assert any(r.account_code for r in records)
    assert any(r.ddi for r in records)
    answered = [r for r in records if r.condition == "AN"]
    assert all(r.ring_s and r.duration_s is None for r in answered)
    assert all(r.duration_s == 0 and r.ring_s for r in records if r.condition == "NA")
    assert all(r.co is None for r in records if r.kind is CallKind.INTERCOM)


def test_no_trunk_no_external_call() -> None:
    pbx = load_scenario("panasonic-dead-trunk-card", host_clock=clock)
    gen = CallGenerator(pbx, seed=1)
    made = [r for i in range(30) for r in gen.next_call(ended=NOW + timedelta(minutes=i))]
    assert made and {r.kind for r in made} == {CallKind.INTERCOM}


def test_a_clock_change_during_a_call_stars_its_date() -> None:
    pbx = load_scenario("panasonic-kx-tda100", host_clock=clock)
    pbx.program_clock(NOW + timedelta(seconds=2))
    gen = CallGenerator(pbx, seed=3)
    starred = []
    for _ in range(40):
        starred += [r for r in gen.next_call() if r.clock_changed]
    assert starred
    assert all(format_call(r).startswith("**/**/** **:****") for r in starred)


def test_power_cut_leaves_a_gap() -> None:
    pbx = load_scenario("panasonic-restart-after-power-cut", host_clock=clock)
    gap_start = NOW - timedelta(minutes=45)
    ended = [r.ended for r in records_of(pbx)]
    assert ended and not [t for t in ended if gap_start <= t <= NOW]
    assert any(t < gap_start for t in ended)
    codes = [(e.code, e.when, e.active) for e in pbx.error_log()[-2:]]
    assert codes == [(10, gap_start, False), (2, NOW, True)]
