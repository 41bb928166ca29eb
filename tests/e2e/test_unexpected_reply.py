"""A garbled reply through the real CLI: an error step, result.json and the transcript
written, no traceback, no ticket (issue 13 #1).

The simulator's ``garbled_reply`` fault, injected from a scenario file as any fault is,
makes the console answer one command with text no PBX should print: a clock of
``25:61:00``, a trunk state ``IN5``, a system date of month 13. The drivers raise
``ParseError`` carrying that text; the run records it as the step's error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.line.errors import EXIT_HALF_PROGRAMMED, EXIT_UNREACHABLE

from .conftest import REPO, Site, _serve
from .test_run_cli import ticket_rows

READ_CLOCK = """\
name: Clock
steps:
  - name: PBX clock
    read: {setting: clock}
"""
CALL_RECORDS = """\
name: Calls
steps:
  - name: Recent calls
    get: call_records
"""

#: (vendor, playbook (a shipped one or text), the command garbled, its reply, shown raw)
CASES = {
    "panasonic-clock": ("panasonic", READ_CLOCK, "READ 000", "000 = 01/12/26 25:61:00",
                        "01/12/26 25:61:00"),
    "panasonic-trunk-state": ("panasonic", "busy-out-trunk.yaml", "READ 410 01",
                              "410 01 = IN5", "IN5"),
    "toshiba-system-time": ("toshiba", CALL_RECORDS, "SHOW TIME",
                            "SYSTEM TIME : 13/45/26 MON 10:00:00", "13/45/26"),
}

SCENARIO = """\
description: {vendor} that garbles its answer to {command}
base: {vendor}-healthy
faults:
  - kind: garbled_reply
    command: "{command}"
    reply: "{reply}"
"""


@pytest.fixture(params=sorted(CASES))
def garbled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Site, str, str]]:
    vendor, playbook, command, reply, shown = CASES[request.param]
    scenario = tmp_path / "garbled.yaml"
    scenario.write_text(SCENARIO.format(vendor=vendor, command=command, reply=reply))
    if playbook.endswith(".yaml"):
        path = REPO / "playbooks" / playbook
    else:
        path = tmp_path / "playbook.yaml"
        path.write_text(playbook)
    for site in _serve(str(scenario), tmp_path):
        site.inventory.write_text(site.inventory.read_text().replace(
            "vendor: panasonic", f"vendor: {vendor}"))
        yield site, str(path), shown


def test_a_garbled_reply_is_an_error_step_with_the_raw_text(
        garbled: tuple[Site, str, str]) -> None:
    site, playbook, shown = garbled
    run = site.pbxdiag("run", playbook, "--site", "acme-bolton", "--inventory",
                       str(site.inventory), "--db", str(site.db), "--output",
                       str(site.output), "--var", "trunk=1", "--json")

    assert "Traceback" not in run.stderr, run.stderr
    # A reply we cannot read: nothing diagnosed (exit 3) — or, where it was the read a
    # programming change depends on, the change could not be made (exit 4). Never 70.
    result = json.loads(run.stdout)
    changes = [s for s in result["steps"] if s["action"] == "set" and s["status"] == "error"]
    assert run.returncode == (EXIT_HALF_PROGRAMMED if changes else EXIT_UNREACHABLE), \
        run.stderr
    result = json.loads(run.stdout)
    errors = [step for step in result["steps"] if step["status"] == "error"]
    assert len(errors) == 1, result["steps"]
    assert "could not parse" in errors[0]["message"]
    assert shown in errors[0]["message"]

    run_dir = Path(result["transcript"]).parent
    saved = json.loads((run_dir / "result.json").read_text())
    assert saved["run_id"] == result["run_id"]
    assert shown in Path(result["transcript"]).read_text()  # what the PBX really said
    assert ticket_rows(site.db) == []  # a reply we cannot read is no evidence of a fault
    assert site.pbx.active_faults()[0].kind == "garbled_reply"
    assert site.pbx.acquire_programming("test")  # the programming session was given back


def test_the_summary_calls_the_line_unreliable_not_the_pbx_faulty(
        garbled: tuple[Site, str, str]) -> None:
    site, playbook, _ = garbled
    run = site.pbxdiag("run", playbook, "--site", "acme-bolton", "--inventory",
                       str(site.inventory), "--db", str(site.db), "--output",
                       str(site.output), "--var", "trunk=1")
    if run.returncode == EXIT_UNREACHABLE:
        assert "the line is unreliable: 1 reply could not be read, even read again" \
            in run.stdout, run.stdout
    assert "  fault:" not in run.stdout
