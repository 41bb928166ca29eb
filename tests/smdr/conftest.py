"""Simulated PBXs serving SMDR on loopback, an inventory that names them, and the real
``pbxdiag smdr monitor`` in a subprocess."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simulators import PbxState, SmdrEndpoint, load_scenario, start_smdr_server

SMDR_PASSWORD = "Smdr-Test-Pass-42"
VARIABLE = "PBXDIAG_TEST_SMDR_PASSWORD"
DEADLINE = 30.0


@dataclass
class SmdrSite:
    site_id: str
    vendor: str
    pbx: PbxState
    endpoint: SmdrEndpoint


@dataclass
class Bench:
    """The simulators, the inventory and the register of one test."""

    workdir: Path
    sites: dict[str, SmdrSite] = field(default_factory=dict)
    monitor: subprocess.Popen[str] | None = None

    @property
    def inventory(self) -> Path:
        return self.workdir / "inventory.yaml"

    @property
    def db(self) -> Path:
        return self.workdir / "tickets.db"

    def add(self, site_id: str, scenario: str) -> SmdrSite:
        pbx = load_scenario(scenario)
        endpoint = start_smdr_server(pbx, password=SMDR_PASSWORD)
        site = SmdrSite(site_id, "toshiba" if scenario.startswith("toshiba") else "panasonic",
                        pbx, endpoint)
        self.sites[site_id] = site
        self.write_inventory()
        return site

    def write_inventory(self, extra: str = "", link: str = "") -> None:
        lines = ["sites:"]
        for s in self.sites.values():
            lines += [f"  {s.site_id}:", "    customer: Acme Ltd", f"    name: {s.site_id}",
                      f"    vendor: {s.vendor}", "    paths: [\"tcp://127.0.0.1:1\"]",
                      f"    smdr_link: {{url: \"tcp://127.0.0.1:{s.endpoint.port}\", "
                      f"password_env: {VARIABLE}, timeout: 10, reconnect_max_seconds: 1{link}}}"]
        self.inventory.write_text("\n".join(lines) + "\n" + extra)

    def env(self) -> dict[str, str]:
        return {**os.environ, VARIABLE: SMDR_PASSWORD, "XDG_DATA_HOME": str(self.workdir / "xdg")}

    def pbxdiag(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=self.env(),
                              capture_output=True, text=True, timeout=120, check=False)

    def start_monitor(self, *extra: str) -> subprocess.Popen[str]:
        self.monitor = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "smdr", "monitor", "--inventory",
             str(self.inventory), "--db", str(self.db), "--log-file",
             str(self.workdir / "monitor.log"), *extra],
            env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self.monitor

    def wait_streaming(self, count: int = 1) -> None:
        for site in self.sites.values():
            assert site.endpoint.wait_for_streaming(count, DEADLINE), self._why()

    def kill(self) -> None:
        assert self.monitor is not None
        self.monitor.send_signal(signal.SIGKILL)
        self.monitor.wait(DEADLINE)
        self.monitor = None
        self.wait_streaming(0)

    def stop(self) -> subprocess.CompletedProcess[str]:
        assert self.monitor is not None
        self.monitor.send_signal(signal.SIGTERM)
        out, err = self.monitor.communicate(timeout=DEADLINE)
        code = self.monitor.returncode
        self.monitor = None
        return subprocess.CompletedProcess([], code, out, err)

    def stored(self, site_id: str, kind: str = "record") -> list[str]:
        """Raw lines stored for the site, in position order (read with plain SQLite)."""
        if not self.db.exists():
            return []
        with sqlite3.connect(self.db) as conn:
            try:
                rows = conn.execute("SELECT raw FROM smdr_items WHERE site_id = ? AND kind = ?"
                                    " ORDER BY pos", (site_id, kind)).fetchall()
            except sqlite3.OperationalError:
                return []
        return [r[0] for r in rows]

    def wait_until(self, predicate: Callable[[], bool], what: str) -> None:
        """Poll the register (another process writes it) until ``predicate`` holds."""
        deadline = time.monotonic() + DEADLINE
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self._why()}"
            time.sleep(0.05)

    def _why(self) -> str:
        log = self.workdir / "monitor.log"
        return log.read_text()[-3000:] if log.exists() else "(no monitor log)"

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.kill()
            self.monitor.wait(DEADLINE)
        for site in self.sites.values():
            site.endpoint.close()


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    b = Bench(tmp_path)
    try:
        yield b
    finally:
        b.close()
