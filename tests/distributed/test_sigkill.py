"""A worker killed mid-fleet: its jobs re-run elsewhere, and nothing is doubled.

40 simulated sites, the register (and so the line locks) on PostgreSQL, on two pools:
``lan`` (SSH) and ``modem-bank-a`` (16 PBXs dialled through a bank of 2 emulated modems,
so 8 sites share each modem line). Two ``pbxdiag worker`` processes (one serves both
pools, so it can take over); SIGKILL to the other while it holds a modem line.
Afterwards the register holds exactly one completed run per site, one ticket and one
"opened" notice per faulty site, and the line-lock log shows no line (no PBX, no modem)
held by two jobs at once.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.distributed.conftest import MODEM_SITES, MODEMS, REPO, SSH_SITES, Fleet, faulty

SITES = SSH_SITES + MODEM_SITES


def holds(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def open_holds(records: list[dict[str, object]], worker: str) -> list[dict[str, object]]:
    released = {(r["key"], r["run_id"], r["pid"]) for r in records if r["event"] == "released"}
    return [r for r in records if r["event"] == "acquired" and r["worker"] == worker
            and (r["key"], r["run_id"], r["pid"]) not in released]


def finished_runs(fleet: Fleet) -> int:
    try:
        return int(fleet.query("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL")[0][0])
    except Exception:  # the first worker may still be creating the schema
        return 0


def modem_path(modem: dict[str, str], number: str) -> dict[str, str]:
    """A path through one of the bank's modems (tests/transports/conftest.py's options)."""
    options = (f"number={number}&guard=0.2&backoff=0.05&carrier_file={modem['status']}"
               "&init=ATZ&init=ATE0V1Q0X4S7=1S12=10")
    return {"url": f"modem://{modem['device']}?{options}", "pool": "modem-bank-a"}


def test_sigkill_mid_fleet_reruns_its_jobs_and_doubles_nothing(pg_fleet: Fleet) -> None:
    fleet = pg_fleet
    lan = SITES - MODEM_SITES
    paths = {i: [{"url": f"ssh://INSTALLER@127.0.0.1:{port}", "pool": "lan"}]
             for i, port in enumerate(fleet.ports)}
    for offset, number in enumerate(fleet.numbers):
        paths[lan + offset] = [modem_path(fleet.modems[offset % MODEMS], number)]
    assert sorted(paths) == list(range(SITES))
    fleet.write_inventory(paths)
    doomed = fleet.start_worker("doomed", "modem-bank-a", concurrency=2)
    fleet.start_worker("survivor", "lan", "modem-bank-a", concurrency=2)
    submitter = subprocess.Popen([sys.executable, "-m", "agent.cli", *fleet.fleet_args()],
                                 env=fleet.env(), cwd=REPO, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    # mid-fleet: some sites done, and the doomed worker holding a line right now
    pause = threading.Event()
    victim: list[dict[str, object]] = []
    killed_at = 0.0
    for _ in range(1200):
        held = [r for r in open_holds(holds(fleet.hold_log), "doomed")
                if str(r["key"]).startswith("modem:")]
        if held and finished_runs(fleet) >= 4:
            os.killpg(doomed.pid, signal.SIGKILL)
            killed_at = time.monotonic()  # the same clock as the hold log's "mono"
            victim = held
            break
        pause.wait(0.05)
    assert victim, "the doomed worker never held a modem line"
    doomed.wait(timeout=30)
    out, err = submitter.communicate(timeout=150)

    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sorted(line["site"] for line in lines) == [f"site-{i:03d}" for i in range(SITES)], err
    assert {line["status"] for line in lines} <= {"passed", "failed"}, lines
    assert submitter.returncode == 1  # the dead trunk cards: failed checks, tickets filed

    records = holds(fleet.hold_log)
    # the killed holds really were cut short: never released, and run again by the survivor
    cut = open_holds(records, "doomed")
    assert {r["run_id"] for r in victim} <= {r["run_id"] for r in cut}
    rerun = {r["run_id"] for r in records if r["worker"] == "survivor"}
    assert {r["run_id"] for r in victim} <= rerun
    _assert_never_held_twice(records, killed_pids={int(str(r["pid"])) for r in cut},
                             killed_at=killed_at)
    modem_keys = {str(r["key"]) for r in records if str(r["key"]).startswith("modem:")}
    assert len(modem_keys) == MODEMS  # both modems were used, each by many sites

    runs = fleet.query("SELECT site_id, run_id, finished_at, status FROM runs")
    tickets = fleet.query("SELECT site_id, ref FROM tickets")
    opened = fleet.query("SELECT ref, channel, count(*) FROM outbox WHERE event = 'opened'"
                         " GROUP BY ref, channel")
    occurrences = fleet.query("SELECT ref, run_id, count(*) FROM occurrences"
                              " GROUP BY ref, run_id")
    assert len(runs) == SITES and len({site for site, *_ in runs}) == SITES
    assert all(finished is not None for _, _, finished, _ in runs)
    faulty_sites = {f"site-{i:03d}" for i in range(SITES) if faulty(i)}
    assert sorted(site for site, _ in tickets) == sorted(faulty_sites)
    assert opened and all(count == 1 for *_, count in opened)
    assert {ref for ref, _, _ in opened} == {ref for _, ref in tickets}
    # the submitter's summary names each site's ticket, as the local fleet's does
    assert {(line["site"], line["ticket"]) for line in lines if line["ticket"]} == \
        {(site, ref) for site, ref in tickets}
    assert all(count == 1 for *_, count in occurrences)


def _assert_never_held_twice(records: list[dict[str, object]], killed_pids: set[int],
                             killed_at: float) -> None:
    """Per key, the holds' intervals (monotonic clock, one host) never overlap; a hold the
    killed worker never released lasts at least until the moment it was killed."""
    spans: dict[str, list[tuple[float, float, str]]] = {}
    starts: dict[tuple[object, object, object], float] = {}
    for r in records:
        ident = (r["key"], r["run_id"], r["pid"])
        if r["event"] == "acquired":
            starts[ident] = float(str(r["mono"]))
        else:
            spans.setdefault(str(r["key"]), []).append(
                (starts.pop(ident), float(str(r["mono"])), str(r["run_id"])))
    for (key, _run, pid), start in starts.items():
        assert int(str(pid)) in killed_pids, f"{key} acquired and never released by {pid}"
        spans.setdefault(str(key), []).append((start, killed_at, "killed"))
    for key, intervals in spans.items():
        intervals.sort()
        for (_, end, first), (begin, _, second) in itertools.pairwise(intervals):
            assert end <= begin, f"{key} held by {first} and {second} at once"
