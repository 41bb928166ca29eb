"""Record a real session against the simulators, serve it back with ``pbxdiag simulate
--replay``, and run the drivers and the health check against the replay: the same results
as the original run, for both vendors; a console session replayed the same way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulators import load_scenario, serve_ssh
from simulators.lines import serve_telnet
from tests.transports.test_simulate_cli import read_endpoints

REPO = Path(__file__).resolve().parents[2]
HEALTH_CHECK = REPO / "playbooks" / "health-check.yaml"
PASSWORD = "Recorded-Site-Pw-3390"
VARIABLE = "PBXDIAG_REPLAY_PASSWORD"
INVENTORY = """\
contracts:
  standard:
    calendar: {{nation: england}}
sites:
  site-a:
    customer: Acme Ltd
    name: Bolton
    vendor: {vendor}
    paths: ["{path}"]
    known_hosts: known_hosts
    timeout: 10
    credentials: {{username: INSTALLER, password_env: {variable}}}
"""


def pbxdiag(folder: Path, *args: str, password: str = PASSWORD,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, VARIABLE: password, "XDG_DATA_HOME": str(folder / "xdg")}
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=180, check=False)


def inventory(folder: Path, vendor: str, url: str, known_hosts: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "known_hosts").write_text(known_hosts)
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY.format(vendor=vendor, path=url, variable=VARIABLE))
    return path


def health_check(folder: Path, *, password: str = PASSWORD) -> tuple[int, dict[str, Any]]:
    done = pbxdiag(folder, "run", str(HEALTH_CHECK), "--site", "site-a", "--inventory",
                   str(folder / "inventory.yaml"), "--output", str(folder / "out"), "--db",
                   str(folder / "tickets.db"), "--json", password=password)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def outcome(report: dict[str, Any]) -> dict[str, Any]:
    """What a run found, without times, ids and line details."""
    return {"status": report["status"],
            "steps": [(s["name"], s["status"], s["failed_expectations"])
                      for s in report["steps"]],
            "faults": sorted(t["identity"] for t in report["tickets"])}


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[Any]:
    processes: list[subprocess.Popen[str]] = []

    def start(transcript: Path, *lines: str) -> list[dict[str, Any]]:
        env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
        process = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "simulate", "--replay", str(transcript),
             *lines, "--state-dir", str(tmp_path / "replay-state")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        processes.append(process)
        return read_endpoints(process, len(lines))

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(15)


@pytest.mark.parametrize(("scenario", "vendor"), [
    ("panasonic-dead-trunk-card", "panasonic"),
    ("toshiba-extension-card-failure", "toshiba"),
])
def test_a_recorded_health_check_replays_to_the_same_results(
        tmp_path: Path, replay: Any, scenario: str, vendor: str) -> None:
    pbx = load_scenario(scenario)
    with serve_telnet(pbx, password=PASSWORD) as endpoint:
        inventory(tmp_path / "site", vendor, endpoint.url)
        code, original = health_check(tmp_path / "site")
    assert code == 1 and original["tickets"], "the recording saw a fault"
    transcript = Path(original["transcript"])
    assert PASSWORD not in transcript.read_text()

    ssh, telnet = replay(transcript, "--ssh", "--telnet")
    # Over telnet the recorded login is played back: any password is accepted.
    inventory(tmp_path / "telnet", vendor, telnet["url"])
    code_t, over_telnet = health_check(tmp_path / "telnet", password="Any-Other-Pw-1")
    # Over SSH the line logs in by itself: the recorded dialogue is skipped.
    inventory(tmp_path / "ssh", vendor, ssh["url"], ssh["known_hosts"] + "\n")
    code_s, over_ssh = health_check(tmp_path / "ssh", password=ssh["password"])

    assert (code_t, code_s) == (code, code)
    assert outcome(over_telnet) == outcome(original)
    assert outcome(over_ssh) == outcome(original)


def test_a_recorded_console_session_replays_through_the_drivers(tmp_path: Path,
                                                                replay: Any) -> None:
    pbx = load_scenario("panasonic-one-trunk-dead")
    keys = "~g cards\n~g trunks\nVER\n~.\n"
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as endpoint:
        folder = tmp_path / "site"
        inventory(folder, "panasonic", f"ssh://INSTALLER@127.0.0.1:{endpoint.port}",
                  endpoint.known_hosts_line() + "\n")
        recorded = pbxdiag(folder, "console", "--site", "site-a", "--inventory",
                           str(folder / "inventory.yaml"), "--output", str(folder / "data"),
                           stdin=keys)
    assert recorded.returncode == 0, recorded.stderr
    (session,) = (folder / "data" / "console").iterdir()

    (telnet,) = replay(session / "transcript.jsonl", "--telnet")
    again = tmp_path / "again"
    inventory(again, "panasonic", telnet["url"])
    replayed = pbxdiag(again, "console", "--site", "site-a", "--inventory",
                       str(again / "inventory.yaml"), "--output", str(again / "data"),
                       stdin=keys + "NOT-RECORDED\n")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == recorded.stdout, "the same tables and replies"
    assert "out_of_service" in replayed.stdout or "fault" in replayed.stdout
    (replayed_session,) = (again / "data" / "console").iterdir()
    assert (replayed_session / "backup.txt").read_text() == (session / "backup.txt").read_text()


def test_an_unknown_command_gets_the_dialect_error_and_a_log_line(tmp_path: Path,
                                                                  replay: Any) -> None:
    pbx = load_scenario("toshiba-healthy")
    with serve_telnet(pbx, password=PASSWORD) as endpoint:
        folder = tmp_path / "site"
        inventory(folder, "toshiba", endpoint.url)
        recorded = pbxdiag(folder, "console", "--site", "site-a", "--inventory",
                           str(folder / "inventory.yaml"), "--output", str(folder / "data"),
                           stdin="SHOW VERSION\n~.\n")
    assert recorded.returncode == 0, recorded.stderr
    (session,) = (folder / "data" / "console").iterdir()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "simulate", "--replay",
         str(session / "transcript.jsonl"), "--telnet", "--state-dir", str(tmp_path / "st")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        (telnet,) = read_endpoints(process, 1)
        again = tmp_path / "again"
        inventory(again, "toshiba", telnet["url"])
        replayed = pbxdiag(again, "console", "--site", "site-a", "--inventory",
                           str(again / "inventory.yaml"), "--output", str(again / "data"),
                           stdin="SHOW VERSION\nSHOW NOTHING-LIKE-IT\n~.\n")
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=15)
    assert replayed.returncode == 0, replayed.stderr
    assert "?ERR 01 UNKNOWN COMMAND" in replayed.stdout
    assert "not in the recording: 'SHOW NOTHING-LIKE-IT'" in err


def test_a_file_that_is_not_a_transcript_is_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"transcript": 1}\nnot json\n')
    done = pbxdiag(tmp_path, "simulate", "--replay", str(bad), "--telnet")
    assert done.returncode == 2
    assert f"{bad}:2: not JSON" in done.stderr
    neither = pbxdiag(tmp_path, "simulate", "--telnet")
    assert neither.returncode == 2 and "--replay" in neither.stderr
