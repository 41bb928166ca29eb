"""``pbxdiag smdr parse`` through the real CLI in a subprocess, on the hand-written fixtures
of every layout (tests/fixtures/smdr) and the real pattern-A capture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMDR = REPO / "tests" / "fixtures" / "smdr"
CAPTURE = REPO / "tests" / "fixtures" / "reference" / "panasonic-smdr-capture.txt"
PAYLOADS = {"record", "alarm", "skip", "continuation_of", "error"}


def pbxdiag(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", "smdr", "parse", *args],
                          capture_output=True, text=True, timeout=60, check=False, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def objects(run: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in run.stdout.splitlines()]


@pytest.mark.parametrize(("name", "layout", "records"), [
    ("panasonic-a-12h.txt", "panasonic-A", 10),
    ("panasonic-b.txt", "panasonic-B", 4),
    ("panasonic-c.txt", "panasonic-C", 2),
    ("panasonic-hybrid.txt", "panasonic-hybrid", 5),
    ("toshiba-r102.txt", "toshiba-R1.02", 5),
    ("toshiba-dk.txt", "toshiba-DK", 5),
])
def test_each_layout_is_told_and_read_without_vendor_or_layout(name: str, layout: str,
                                                               records: int) -> None:
    run = pbxdiag(str(SMDR / name), "--json")
    assert run.returncode == 0, run.stderr
    got = objects(run)
    assert {o["layout"] for o in got} == {layout}
    assert sum("record" in o for o in got) == records
    assert all(len(PAYLOADS & o.keys()) == 1 for o in got)
    assert f"layout {layout}" in run.stderr and "Traceback" not in run.stderr


def test_json_fields_of_a_twelve_hour_record_and_an_alarm() -> None:
    got = {o["line"]: o for o in objects(pbxdiag(str(SMDR / "panasonic-a-12h.txt"), "--json"))}
    assert got[7]["record"] == {
        "at": "2026-02-13T12:11:00", "year_inferred": False, "extension": "*103", "co": "01",
        "dialled": "<D>2001<I>07700900123", "caller_id": "07700900123", "ring": 4,
        "duration": 30, "cost": "", "account_code": "", "condition": "TR",
        "direction": "incoming",
        "raw": "13/02/26 12:11PM  *103 01 <D>2001<I>07700900123     0'04 00:00'30"
               "            TR "}  # as printed, trailing space kept
    assert got[9]["alarm"] == {"at": "2026-02-13T13:10:00", "level": "minor", "code": "510",
                               "sub_code": "10000", "message": "SMDR disconnect"}
    assert got[1]["skip"] == "header" and got[2]["skip"] == "rule"


def test_form_feeds_keep_line_numbers_and_a_bad_line_exits_1() -> None:
    run = pbxdiag(str(SMDR / "panasonic-a-formfeed.txt"), "--json")
    assert run.returncode == 1
    got = objects(run)
    assert [(o["line"], o.get("skip")) for o in got if "skip" in o] == [
        (1, "header"), (2, "rule"), (5, "header"), (6, "rule"), (9, "page"), (10, "header"),
        (11, "rule")]
    assert [o["line"] for o in got if "error" in o] == [13]
    assert "1 rejected" in run.stderr and "date order DMY (assumed" in run.stderr


def test_r103_continuations_point_at_their_record() -> None:
    run = pbxdiag(str(SMDR / "toshiba-r103.txt"), "--json", "--vendor", "toshiba")
    got = objects(run)
    assert [(o["line"], o["continuation_of"]) for o in got if "continuation_of" in o] == [
        (3, 2), (5, 4), (8, 7)]
    record = next(o["record"] for o in got if o["line"] == 2)
    assert isinstance(record, dict) and record["year_inferred"] is True
    assert (record["caller_id"], record["co"]) == ("01134960123", "3")
    assert run.returncode == 1  # line 10 is too long for an & line


def test_reference_capture_table_and_summary() -> None:
    run = pbxdiag(str(CAPTURE))
    assert run.returncode == 0
    assert run.stdout.count("ALARM minor #510") == 7
    assert "24 lines, 13 records, 7 alarms, 0 rejected" in run.stderr


def test_pinned_options_and_several_files() -> None:
    run = pbxdiag(str(SMDR / "panasonic-b.txt"), str(SMDR / "panasonic-a-12h.txt"),
                  "--layout", "A", "--time", "12h", "--date-order", "DMY", "--json")
    assert run.returncode == 1
    got = objects(run)
    b_lines = [o for o in got if str(o["file"]).endswith("panasonic-b.txt")]
    assert sum("error" in o for o in b_lines) == 4 and not any("record" in o for o in b_lines)
    assert "total: 19 lines" in run.stderr and "panasonic-A 19" in run.stderr


def test_an_unreadable_stream_is_reported_as_unknown(tmp_path: Path) -> None:
    noise = tmp_path / "noise.log"
    noise.write_bytes(b"\xff\xfe garbage \x00\x85\r\nmore \xe9 noise\f\n")
    run = pbxdiag(str(noise), "--json")
    assert run.returncode == 1
    assert {o["layout"] for o in objects(run)} == {"unknown"}
    assert "layout unknown" in run.stderr


@pytest.mark.parametrize("args", [["/nonexistent/smdr.log"], ["."],
                                  ["--vendor", "toshiba", "--layout", "B", "x"]])
def test_bad_input_exits_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "x").write_text("")
    run = pbxdiag(*args, cwd=tmp_path)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
