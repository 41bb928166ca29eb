"""``pbx-dead``: the one fault from no PBX facts. The line reached the site on every path and
the PBX never said a word → P1; a site not reached at all → exit 3, nothing filed.

Real CLI; the simulator over telnet and SSH, both vendors; the PBX brought back to life
proves the ticket clear.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from agent.tickets import Register
from simulators import PbxState, load_scenario, serve_ssh
from simulators.lines.telnet import serve_telnet

from .conftest import HEALTH_CHECK, PASSWORD, PASSWORD_VARIABLE

INVENTORY = """\
sites:
  dead:
    customer: Acme Ltd
    name: Bolton
    vendor: {vendor}
    paths: [{paths}]
    known_hosts: known_hosts
    timeout: 5
    credentials: {{username: INSTALLER, password_env: {variable}}}
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(workdir: Path, vendor: str, *paths: str, json_out: bool = True
        ) -> subprocess.CompletedProcess[str]:
    inventory = workdir / "inventory.yaml"
    inventory.write_text(INVENTORY.format(vendor=vendor, paths=", ".join(f'"{p}"' for p in paths),
                                          variable=PASSWORD_VARIABLE))
    env = {"PATH": "/usr/bin:/bin", PASSWORD_VARIABLE: PASSWORD,
           "XDG_DATA_HOME": str(workdir / "xdg"), "HOME": str(workdir)}
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", str(HEALTH_CHECK), "--site", "dead",
         "--inventory", str(inventory), "--db", str(workdir / "tickets.db"), "--output",
         str(workdir / "out"), *(["--json"] if json_out else [])],
        env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(params=["panasonic", "toshiba"])
def dead(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, PbxState,
                                                                          list[str]]]:
    vendor: str = request.param
    pbx = load_scenario(f"{vendor}-pbx-dead")
    with ExitStack() as stack:
        ssh = stack.enter_context(serve_ssh(pbx, host_key_path=tmp_path / "host_key",
                                            password=PASSWORD))
        telnet = stack.enter_context(serve_telnet(pbx, password=PASSWORD))
        (tmp_path / "known_hosts").write_text(ssh.known_hosts_line() + "\n")
        yield vendor, pbx, [f"ssh://INSTALLER@127.0.0.1:{ssh.port}",
                            f"telnet://127.0.0.1:{telnet.port}"]


def test_a_pbx_silent_on_every_line_that_reaches_it_is_one_p1_ticket_until_it_answers(
        dead: tuple[str, PbxState, list[str]], tmp_path: Path) -> None:
    vendor, pbx, paths = dead
    for path in paths:  # SSH authenticated, telnet connected: both reached the site
        first = run(tmp_path, vendor, path)
        assert first.returncode == 1, first.stdout + first.stderr
        report = json.loads(first.stdout)
        assert report["status"] == "unreachable"
        assert report["paths_tried"][0]["reached"] is True
        assert report["paths_tried"][0]["pbx_silent"] is True
        assert [t["identity"] for t in report["tickets"]] == ["pbx-dead @ system"]
        assert report["tickets"][0]["priority"] == "P1"
    with Register(tmp_path / "tickets.db") as register:
        (ticket,) = register.list_tickets(open_only=True)  # one fault, one ticket
        assert [o.kind for o in register.occurrences(ticket.ref)] == ["fault", "fault"]

    pbx.clear_fault("processor_failure")  # the processor restarts and answers again
    pbx.clear_history()  # the engineer clears the restart entries from the error log
    alive = run(tmp_path, vendor, paths[0])
    assert alive.returncode == 0, alive.stdout + alive.stderr
    assert json.loads(alive.stdout)["cleared"] == [ticket.ref]


def test_a_site_not_reached_at_all_is_unreachable_and_files_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, "panasonic", f"telnet://127.0.0.1:{closed_port()}")
    assert result.returncode == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["tickets"] == [] and report["paths_tried"][0]["reached"] is False
    if (tmp_path / "tickets.db").exists():
        with Register(tmp_path / "tickets.db") as register:
            assert register.list_tickets() == []


def test_one_path_not_reached_means_the_silence_is_not_proof(
        dead: tuple[str, PbxState, list[str]], tmp_path: Path) -> None:
    vendor, _, paths = dead
    result = run(tmp_path, vendor, f"telnet://127.0.0.1:{closed_port()}", paths[1])
    assert result.returncode == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [a["reached"] for a in report["paths_tried"]] == [False, True]
    assert report["tickets"] == []
