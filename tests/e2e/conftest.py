"""A simulated PBX on real SSH, and an inventory that points at it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulators import PbxState, SshEndpoint, load_scenario, serve_ssh

REPO = Path(__file__).resolve().parents[2]
HEALTH_CHECK = REPO / "playbooks" / "health-check.yaml"
PASSWORD = "e2e-Pbx-Secret-7781"
PASSWORD_VARIABLE = "PBXDIAG_E2E_PASSWORD"

INVENTORY = """\
contracts:
  standard:
    calendar: {{nation: england}}
sites:
  acme-bolton:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    paths: ["{path}"]
    known_hosts: known_hosts
    timeout: 10
    credentials: {{username: INSTALLER, password_env: {variable}}}
"""


@dataclass
class Site:
    pbx: PbxState
    endpoint: SshEndpoint
    workdir: Path

    @property
    def inventory(self) -> Path:
        return self.workdir / "inventory.yaml"

    @property
    def db(self) -> Path:
        return self.workdir / "tickets.db"

    @property
    def output(self) -> Path:
        return self.workdir / "out"

    def write_inventory(self, path: str | None = None) -> None:
        url = path or f"ssh://INSTALLER@127.0.0.1:{self.endpoint.port}"
        self.inventory.write_text(INVENTORY.format(path=url, variable=PASSWORD_VARIABLE))

    def pbxdiag(self, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, PASSWORD_VARIABLE: password,
               "XDG_DATA_HOME": str(self.workdir / "xdg")}
        return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    def run_health_check(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.pbxdiag("run", str(HEALTH_CHECK), "--site", "acme-bolton", "--inventory",
                            str(self.inventory), "--db", str(self.db), "--output",
                            str(self.output), *extra)


def _serve(scenario: str, tmp_path: Path) -> Iterator[Site]:
    pbx = load_scenario(scenario)
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as endpoint:
        (tmp_path / "known_hosts").write_text(endpoint.known_hosts_line() + "\n")
        site = Site(pbx=pbx, endpoint=endpoint, workdir=tmp_path)
        site.write_inventory()
        yield site


@pytest.fixture
def faulty_site(tmp_path: Path) -> Iterator[Site]:
    yield from _serve("panasonic-dead-trunk-card", tmp_path)


@pytest.fixture
def healthy_site(tmp_path: Path) -> Iterator[Site]:
    yield from _serve("panasonic-healthy", tmp_path)
