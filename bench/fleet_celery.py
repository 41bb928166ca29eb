"""Fleet on Celery vs the local executor: 500 simulated sites, the same machine, one run.

Both are the real commands in child processes against the same simulators (processes
of their own, ``bench.fleet_sims.serving``): ``pbxdiag fleet`` at concurrency 8, and
``pbxdiag fleet --executor celery`` with two ``pbxdiag worker`` processes of concurrency
4 each (8 jobs at once too) on a real redis-server. The ratio is what the queue costs
(or gains: two worker processes are not bound by one interpreter); the per-job overhead
is the wall-time difference per site.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.fleet_sims import serving
from tests.dbservers import running_redis

SITES = 500
CONCURRENCY = 8
PASSWORD = "bench-celery-pw"
ROOT = Path(__file__).resolve().parent.parent
SITE = """\
  site-{index:03d}:
    customer: Customer {index}
    vendor: panasonic
    paths: [{{url: "ssh://INSTALLER@127.0.0.1:{port}", pool: {pool}}}]
    known_hosts: known_hosts
    timeout: 30
    credentials: {{username: INSTALLER, password_env: PBXDIAG_BENCH_PASSWORD}}
"""


def run() -> list[dict[str, object]]:
    folder = Path(tempfile.mkdtemp(prefix="pbxdiag-celery-"))
    with serving(SITES, folder, PASSWORD) as ports:
        inventory = folder / "inventory.yaml"
        inventory.write_text("sites:\n" + "".join(
            SITE.format(index=i, port=port, pool="bank-a" if i % 2 else "bank-b")
            for i, port in enumerate(ports)))
        local, local_done = _fleet(folder, inventory, "local", [])
        with running_redis() as redis:
            celery, celery_done = _celery(folder, inventory, redis.url(0))
    overhead_ms = (celery - local) / SITES * 1000 * CONCURRENCY
    return [
        {"case": f"{SITES} sites: local executor, concurrency {CONCURRENCY} (baseline)",
         "median": f"{local:.2f} s", "spread": "single run", "ratio": "1.00",
         "target": "all sites diagnosed",
         "met": "yes" if local_done == SITES else f"NO ({local_done}/{SITES} diagnosed)"},
        {"case": f"{SITES} sites: Celery, 2 workers × {CONCURRENCY // 2}",
         "median": f"{celery:.2f} s", "spread": "single run",
         "ratio": f"{celery / local:.2f}× the local wall time",
         "target": "≤ 1.5× local, all sites diagnosed",
         "met": "yes" if celery <= 1.5 * local and celery_done == SITES
         else f"NO ({celery_done}/{SITES} diagnosed)" if celery_done != SITES else "NO",
         "note": f"per-job overhead of the queue: {overhead_ms:.0f} ms of a job slot per "
                 "site (wall-time difference × concurrency ÷ sites)"},
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "PBXDIAG_BENCH_PASSWORD": PASSWORD}


def _fleet(folder: Path, inventory: Path, name: str, extra: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "fleet", str(ROOT / "playbooks/health-check.yaml"),
         "--inventory", str(inventory), "--concurrency", str(CONCURRENCY), "--json",
         "--db", str(folder / f"{name}.db"), "--output", str(folder / name), *extra],
        env=_env(), capture_output=True, text=True, check=False, timeout=3600)
    wall = time.perf_counter() - start
    diagnosed = sum(1 for line in done.stdout.splitlines()
                    if line.startswith("{") and json.loads(line)["status"] in ("passed", "failed"))
    if diagnosed != SITES:
        print(f"warning: {name}: {diagnosed}/{SITES} diagnosed", file=sys.stderr)
    return wall, diagnosed


def _celery(folder: Path, inventory: Path, broker: str) -> tuple[float, int]:
    workers = [subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "worker", "--pool", "bank-a", "--pool", "bank-b",
         "--concurrency", str(CONCURRENCY // 2), "--broker", broker, "--inventory",
         str(inventory), "--db", str(folder / "celery.db"), "--output", str(folder / "celery"),
         "--name", f"bench-{n}"], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True) for n in range(2)]
    try:
        return _fleet(folder, inventory, "celery", ["--executor", "celery", "--broker", broker])
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=120)
