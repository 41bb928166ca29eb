"""One rule for a login the PBX refuses (docs/reliability.md): the run stops there — the
next path reaches the same PBX with the same login — unless the next path has a login of
its own in the inventory, which is then tried. Real CLI, SSH and telnet simulators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from simulators import load_scenario, serve_ssh
from simulators.lines import serve_telnet

from .conftest import HEALTH_CHECK, PASSWORD

WRONG = "Not-The-Pbx-Password-1"
INVENTORY = """\
sites:
  s1:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    known_hosts: known_hosts
    timeout: 5
    credentials: {{username: INSTALLER, password_env: SITE_PW}}
    paths:
      - "{ssh}"
      - {telnet}
"""


@pytest.fixture
def lines(tmp_path: Path) -> Iterator[tuple[str, str]]:
    pbx = load_scenario("panasonic-healthy")
    with ExitStack() as stack:
        ssh = stack.enter_context(serve_ssh(pbx, host_key_path=tmp_path / "host_key",
                                            password=PASSWORD))
        telnet = stack.enter_context(serve_telnet(pbx, password=PASSWORD))
        (tmp_path / "known_hosts").write_text(ssh.known_hosts_line() + "\n")
        yield f"ssh://INSTALLER@127.0.0.1:{ssh.port}", f"telnet://127.0.0.1:{telnet.port}"


def run(tmp_path: Path, ssh: str, telnet: str) -> tuple[int, dict[str, object], str]:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY.format(ssh=ssh, telnet=telnet))
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", str(HEALTH_CHECK), "--site", "s1",
         "--inventory", str(inventory), "--db", str(tmp_path / "t.db"), "--output",
         str(tmp_path / "out"), "--json"],
        env={**os.environ, "SITE_PW": WRONG, "TELNET_PW": PASSWORD,
             "XDG_DATA_HOME": str(tmp_path / "xdg")},
        capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, json.loads(done.stdout), done.stdout + done.stderr


def test_a_refused_login_stops_when_the_next_path_has_the_same_login(
        lines: tuple[str, str], tmp_path: Path) -> None:
    ssh, telnet = lines
    code, result, said = run(tmp_path, ssh, f'"{telnet}"')
    assert code == 3, said
    assert [a["url"] for a in result["paths_tried"]] == [ssh]  # telnet never dialled
    assert "AuthFailed" in result["paths_tried"][0]["error"]
    assert WRONG not in said and PASSWORD not in said


def test_a_refused_login_moves_on_to_a_path_with_its_own_login(
        lines: tuple[str, str], tmp_path: Path) -> None:
    ssh, telnet = lines
    own = f'{{url: "{telnet}", credentials: {{username: INSTALLER, password_env: TELNET_PW}}}}'
    code, result, said = run(tmp_path, ssh, own)
    assert code == 0, said
    first, second = result["paths_tried"]
    assert "AuthFailed" in first["error"] and second["error"] == ""
    assert result["path"] == telnet and result["status"] == "passed"
    assert WRONG not in said and PASSWORD not in said


def test_a_path_login_whose_variable_is_not_set_is_bad_input_at_its_place(
        lines: tuple[str, str], tmp_path: Path) -> None:
    ssh, telnet = lines
    own = f'{{url: "{telnet}", credentials: {{password_env: NOT_SET_ANYWHERE_PW}}}}'
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY.format(ssh=ssh, telnet=own))
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "inventory", "validate", str(inventory)],
        env={**os.environ, "SITE_PW": WRONG}, capture_output=True, text=True, timeout=60,
        check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{inventory}:11:" in done.stdout + done.stderr  # that path's own entry
    assert "NOT_SET_ANYWHERE_PW" in done.stdout + done.stderr
