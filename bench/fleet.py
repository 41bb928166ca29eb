"""Fleet: 200 simulated sites over SSH at concurrency 50 (targets: < 30 s, < 300 MB RSS).

The simulators run in a separate process so the agent's time and memory are its own; the
agent is the real ``pbxdiag fleet`` command in a child process, whose peak RSS the kernel
reports after it exits.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.fleet_sims import serving

SITES = 200
CONCURRENCY = 50
PASSWORD = "bench-fleet-pw"
ROOT = Path(__file__).resolve().parent.parent
SITE = """\
  site-{index:03d}:
    customer: Customer {index}
    vendor: panasonic
    paths: ["ssh://INSTALLER@127.0.0.1:{port}"]
    known_hosts: known_hosts
    timeout: 30
    credentials: {{username: INSTALLER, password_env: PBXDIAG_BENCH_PASSWORD}}
"""


def run() -> list[dict[str, object]]:
    folder = Path(tempfile.mkdtemp(prefix="pbxdiag-fleet-"))
    with serving(SITES, folder, PASSWORD) as ports:
        inventory = folder / "inventory.yaml"
        inventory.write_text("sites:\n" + "".join(
            SITE.format(index=i, port=port) for i, port in enumerate(ports)))
        wall, rss_mb, lines = _run_agent(folder, inventory)
    passed = sum(1 for line in lines if line["status"] in ("passed", "failed"))
    return [
        {"case": f"{SITES} sites, concurrency {CONCURRENCY}: wall time",
         "median": f"{wall:.2f} s", "spread": "single run",
         "ratio": f"{SITES / wall:.1f} sites/s", "target": "< 30 s, all sites diagnosed",
         "met": "yes" if wall < 30 and passed == SITES else f"NO ({passed}/{SITES} diagnosed)"},
        {"case": f"{SITES} sites: agent peak RSS", "median": f"{rss_mb:.0f} MB",
         "spread": "single run", "target": "< 300 MB", "met": "yes" if rss_mb < 300 else "NO"},
    ]


def _run_agent(folder: Path, inventory: Path) -> tuple[float, float, list[dict[str, str]]]:
    env = {**os.environ, "PBXDIAG_BENCH_PASSWORD": PASSWORD}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    agent = subprocess.run(
        [sys.executable, "-m", "agent.cli", "fleet", str(ROOT / "playbooks/health-check.yaml"),
         "--inventory", str(inventory), "--concurrency", str(CONCURRENCY), "--json",
         "--db", str(folder / "tickets.db"), "--output", str(folder / "out")],
        env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb <= before:
        print("warning: agent RSS not above the earlier children's peak", file=sys.stderr)
    lines = [json.loads(line) for line in agent.stdout.splitlines() if line.startswith("{")]
    return wall, peak_kb / 1024, lines
