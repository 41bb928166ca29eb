"""The Celery fleet's other promises: a job moves to the next path's pool with its run id,
no secret ever reaches the broker, --detach + --status, and a bad broker is exit 2."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import redis

from tests.distributed.conftest import PASSWORD, REPO, Fleet


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def broker_text(url: str) -> str:
    """Every key and value in the broker's database (lists, hashes, sets, strings)."""
    client = redis.Redis.from_url(url)
    parts: list[bytes] = []
    for key in client.scan_iter(count=1000):
        parts.append(key)
        kind = client.type(key)
        if kind == b"list":
            parts += client.lrange(key, 0, -1)
        elif kind == b"hash":
            parts += [b for pair in client.hgetall(key).items() for b in pair]
        elif kind == b"string":
            parts.append(client.get(key) or b"")
        elif kind == b"zset":
            parts += client.zrange(key, 0, -1)
        elif kind == b"set":
            parts += list(client.smembers(key))
    return b"\n".join(parts).decode("utf-8", "replace")


def test_detached_fleet_moves_on_to_the_next_pool_and_keeps_secrets_off_the_broker(
        fleet: Fleet) -> None:
    dead = f"ssh://INSTALLER@127.0.0.1:{closed_port()}"
    paths = {0: [{"url": dead, "pool": "lan"},
                 {"url": f"ssh://INSTALLER@127.0.0.1:{fleet.ports[1]}", "pool": "bank-b"}]}
    paths |= {i: [{"url": f"ssh://INSTALLER@127.0.0.1:{fleet.ports[i]}", "pool": "lan"}]
              for i in (2, 3)}
    fleet.write_inventory(paths)
    detached = fleet.pbxdiag(*fleet.fleet_args("--detach"))
    assert detached.returncode == 0, detached.stderr
    fleet_id = json.loads(detached.stdout.splitlines()[-1])["fleet"]

    queued = broker_text(fleet.broker)  # nothing has run yet: every message is there
    assert "site-000" in queued and "site-003" in queued
    assert PASSWORD not in queued

    pending = fleet.pbxdiag("fleet", "--status", fleet_id, "--db", fleet.db, "--json")
    assert pending.returncode == 0
    assert json.loads(pending.stdout.splitlines()[-1])["pending"] == 3

    fleet.start_worker("lan", "lan", concurrency=2)
    fleet.start_worker("bank-b", "bank-b", concurrency=1)
    pause = threading.Event()
    status: dict[str, object] = {}
    for _ in range(600):
        shown = fleet.pbxdiag("fleet", "--status", fleet_id, "--db", fleet.db, "--json")
        status = json.loads(shown.stdout.splitlines()[-1])
        if status["pending"] == 0:
            break
        pause.wait(0.2)
    assert status["pending"] == 0, status
    rows = {json.loads(line)["site"]: json.loads(line) for line in shown.stdout.splitlines()[:-1]}
    assert shown.returncode == 0 and {r["status"] for r in rows.values()} == {"passed"}

    moved = rows["site-000"]
    assert moved["path"] == f"ssh://INSTALLER@127.0.0.1:{fleet.ports[1]}"
    result = json.loads((fleet.output / "runs" / moved["run_id"] / "result.json").read_text())
    assert [a["url"] for a in result["paths_tried"]] == [dead, moved["path"]]
    assert result["paths_tried"][0]["error"]
    # both hops' transcripts are kept: the first beside the one that reached the PBX
    folder = fleet.output / "runs" / moved["run_id"]
    assert (folder / "transcript.before-path-1.jsonl").exists()
    assert (folder / "transcript.jsonl").read_text() != \
        (folder / "transcript.before-path-1.jsonl").read_text()
    holders = {(h["worker"], h["run_id"]) for h in map(json.loads,
               fleet.hold_log.read_text().splitlines()) if h["key"] == "site:site-000"}
    assert holders == {("lan", moved["run_id"]), ("bank-b", moved["run_id"])}
    assert PASSWORD not in broker_text(fleet.broker)


def test_a_bad_broker_is_bad_input_before_anything_is_sent(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("sites:\n  s1:\n    customer: c\n    vendor: panasonic\n"
                         "    paths: [\"ssh://u@127.0.0.1:1\"]\n")
    db = tmp_path / "tickets.db"
    for broker in ("http://127.0.0.1:6379/0", "redis://", "redis://127.0.0.1:6379/zero",
                   f"redis://127.0.0.1:{closed_port()}/0"):
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", "fleet", "health-check", "--executor",
             "celery", "--broker", broker, "--inventory", str(inventory), "--db", str(db)],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2, (broker, done.stderr)
        assert "--broker" in done.stderr and "Traceback" not in done.stderr
        if db.exists():  # nothing recorded: no run started on the board
            with sqlite3.connect(db) as conn:
                assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_a_job_time_limit_shorter_than_a_sites_reach_is_refused(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("sites:\n  slow-modem:\n    customer: c\n    vendor: panasonic\n"
                         "    reach_timeout: 240\n    paths: [\"ssh://u@127.0.0.1:1\"]\n")
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "worker", "--pool", "default", "--broker",
         "redis://127.0.0.1:6379/0", "--job-time-limit", "200", "--inventory", str(inventory),
         "--db", str(tmp_path / "tickets.db"), "--output", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "--job-time-limit 200" in done.stderr and "slow-modem" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_scheduled_job_runs_its_fleet_on_the_queue(fleet: Fleet) -> None:
    fleet.write_inventory({i: [{"url": f"ssh://INSTALLER@127.0.0.1:{fleet.ports[i]}",
                                "pool": "night"}] for i in (1, 2)})
    job = fleet.folder / "nightly.yaml"
    job.write_text(f"playbook: {REPO / 'playbooks' / 'health-check.yaml'}\n"
                   f"inventory: inventory.yaml\nexecutor: celery\nbroker: {fleet.broker}\n"
                   "vars: {scheduled: true}\n")
    fleet.start_worker("night", "night", concurrency=2)
    done = fleet.pbxdiag("schedule", str(job), "--db", fleet.db, "--output",
                         str(fleet.output), "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert sorted(line["site"] for line in lines) == ["site-001", "site-002"]
    assert {line["status"] for line in lines} == {"passed"}
    assert {h["worker"] for h in map(json.loads, fleet.hold_log.read_text().splitlines())} \
        == {"night"}

    job.write_text("playbook: p.yaml\ninventory: inventory.yaml\nexecutor: celery\n")
    refused = fleet.pbxdiag("schedule", str(job), "--db", fleet.db)
    assert refused.returncode == 2 and "broker" in refused.stderr
    assert f"{job}:" in refused.stderr and "Traceback" not in refused.stderr
