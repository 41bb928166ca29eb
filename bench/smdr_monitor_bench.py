"""``pbxdiag smdr monitor`` with 50 simulated sites streaming at once (issue 15).

Fifty Panasonic simulators serve SMDR on loopback; one monitor (the real CLI in a
subprocess) collects from all of them while every site's calls end as fast as the
simulators make them. Reported: the records emitted, lost (in a simulator's buffer and
never stored) and doubled (stored more than once), and the ingest rate as a ratio to the
emission rate measured in the same run — ≥ 1 means the monitor kept up.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from drivers.panasonic.smdr import parse_stream
from simulators import CallGenerator, PbxState, SmdrEndpoint, load_scenario, start_smdr_server
from simulators.panasonic import smdr as panasonic_smdr

SITES = 50
CALLS_PER_SITE = 20
PASSWORD = "Bench-Smdr-Pass-1"
VARIABLE = "PBXDIAG_BENCH_SMDR_PASSWORD"
DEADLINE = 120.0


def _emitted(pbx: PbxState) -> list[str]:
    lines = [t for _, item in pbx.smdr_items()
             if (t := panasonic_smdr.format_item(item)) is not None]
    return [i.record.raw for i in parse_stream("\n".join(lines)).items if i.record is not None]


def _stored(db: Path) -> dict[str, list[str]]:
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        try:
            rows = conn.execute("SELECT site_id, raw FROM smdr_items WHERE kind = 'record'"
                                " ORDER BY site_id, pos").fetchall()
        except sqlite3.OperationalError:
            return {}
    out: dict[str, list[str]] = {}
    for site, raw in rows:
        out.setdefault(site, []).append(raw)
    return out


def run() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pbxs = [load_scenario("panasonic-healthy") for _ in range(SITES)]
        endpoints = [start_smdr_server(pbx, password=PASSWORD) for pbx in pbxs]
        try:
            return _measure(work, pbxs, endpoints)
        finally:
            for endpoint in endpoints:
                endpoint.close()


def _measure(work: Path, pbxs: list[PbxState],
             endpoints: list[SmdrEndpoint]) -> list[dict[str, object]]:
    inventory = work / "inventory.yaml"
    lines = ["sites:"]
    for n, endpoint in enumerate(endpoints):
        lines += [f"  site{n:02d}:", "    customer: Bench", "    vendor: panasonic",
                  "    paths: [\"tcp://127.0.0.1:1\"]",
                  f"    smdr_link: {{url: \"tcp://127.0.0.1:{endpoint.port}\", "
                  f"password_env: {VARIABLE}, reconnect_max_seconds: 2}}"]
    inventory.write_text("\n".join(lines) + "\n")
    db = work / "tickets.db"
    env = {**os.environ, VARIABLE: PASSWORD, "XDG_DATA_HOME": str(work / "xdg")}
    monitor = subprocess.Popen([sys.executable, "-m", "agent.cli", "smdr", "monitor",
                                "--inventory", str(inventory), "--db", str(db),
                                "--log-file", str(work / "monitor.log")],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for endpoint in endpoints:
            endpoint.wait_for_streaming(1, DEADLINE)
        started = time.perf_counter()
        threads = [threading.Thread(target=_calls, args=(pbx, n)) for n, pbx in enumerate(pbxs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        emitting = time.perf_counter() - started
        emitted = {f"site{n:02d}": _emitted(pbx) for n, pbx in enumerate(pbxs)}
        total = sum(len(v) for v in emitted.values())
        deadline = time.monotonic() + DEADLINE
        stored = _stored(db)
        while sum(len(v) for v in stored.values()) < total and time.monotonic() < deadline:
            time.sleep(0.1)
            stored = _stored(db)
        ingest = time.perf_counter() - started
    finally:
        monitor.send_signal(signal.SIGTERM)
        monitor.wait(DEADLINE)
    lost = sum(max(0, n) for site, raws in emitted.items()
               for n in (Counter(raws) - Counter(stored.get(site, []))).values())
    doubled = sum(max(0, n) for site, raws in emitted.items()
                  for n in (Counter(stored.get(site, [])) - Counter(raws)).values())
    ratio = emitting / ingest if ingest else 0.0
    return [{"case": f"{SITES} sites streaming, {total:,} records (buffers and "
                     f"{CALLS_PER_SITE} new calls each)",
             "median": f"{ingest:.2f} s to store all", "spread": f"emitted in {emitting:.2f} s",
             "ratio": f"{ratio:.2f}", "target": "0 lost, 0 doubled",
             "met": "yes" if lost == 0 and doubled == 0 else f"no: {lost} lost, {doubled} doubled",
             "note": "ratio = time the simulators took to emit the new calls / time from then "
                     "until every record (the buffers replayed at connect included) was "
                     "stored; lost and doubled are counted per site against each "
                     "simulator's buffer"}]


def _calls(pbx: PbxState, seed: int) -> None:
    generator = CallGenerator(pbx, seed=seed)
    for _ in range(CALLS_PER_SITE):
        generator.next_call()


if __name__ == "__main__":
    print(run())
