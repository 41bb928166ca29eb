"""`pbxdiag fleet`: several simulated sites at once, each judged on its own."""

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

from .conftest import HEALTH_CHECK, PASSWORD, PASSWORD_VARIABLE

SITE = """\
  {id}:
    customer: Customer {id}
    vendor: panasonic
    paths: ["{url}"]
    known_hosts: known_hosts
    timeout: 10
    credentials: {{username: INSTALLER, password_env: {variable}}}
"""


@pytest.fixture
def fleet_inventory(tmp_path: Path) -> Iterator[Path]:
    scenarios = {"site-a": "panasonic-healthy", "site-b": "panasonic-dead-trunk-card",
                 "site-c": "panasonic-healthy"}
    with ExitStack() as stack:
        known, sites = [], []
        for site_id, scenario in scenarios.items():
            endpoint = stack.enter_context(serve_ssh(
                load_scenario(scenario), host_key_path=tmp_path / "host_key",
                password=PASSWORD))
            known.append(endpoint.known_hosts_line())
            sites.append(SITE.format(id=site_id, variable=PASSWORD_VARIABLE,
                                     url=f"ssh://INSTALLER@127.0.0.1:{endpoint.port}"))
        sites.append(SITE.format(id="site-dead", variable=PASSWORD_VARIABLE,
                                 url="ssh://INSTALLER@127.0.0.1:1"))
        (tmp_path / "known_hosts").write_text("\n".join(known) + "\n")
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text("sites:\n" + "".join(sites))
        yield inventory


def test_fleet_runs_every_site_and_reports_each(fleet_inventory: Path, tmp_path: Path) -> None:
    env = {**os.environ, PASSWORD_VARIABLE: PASSWORD}
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "fleet", str(HEALTH_CHECK), "--inventory",
         str(fleet_inventory), "--concurrency", "3", "--json", "--db",
         str(tmp_path / "t.db"), "--output", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    lines = {d["site"]: d for d in map(json.loads, run.stdout.splitlines())}
    assert set(lines) == {"site-a", "site-b", "site-c", "site-dead"}
    assert lines["site-a"]["status"] == lines["site-c"]["status"] == "passed"
    assert lines["site-b"]["status"] == "failed" and lines["site-b"]["ticket"]
    assert lines["site-dead"]["status"] == "unreachable" and lines["site-dead"]["ticket"] is None
    assert run.returncode == 3  # the worst outcome: a site could not be reached
    assert PASSWORD not in run.stdout + run.stderr


def test_nightly_fleet_runs_the_scheduled_checks(fleet_inventory: Path, tmp_path: Path) -> None:
    env = {**os.environ, PASSWORD_VARIABLE: PASSWORD}
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "fleet", str(HEALTH_CHECK), "--inventory",
         str(fleet_inventory), "--sites", "site-a", "--json", "--var", "scheduled=true",
         "--db", str(tmp_path / "t.db"), "--output", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    (line,) = [json.loads(text) for text in run.stdout.splitlines()]
    steps = {s["name"]: s["status"] for s in
             json.loads(Path(line["result"]).read_text())["steps"]}
    assert steps["SMDR link up"] != "skipped"
    assert steps["No new major entry in the error log"] == "ok"
    assert line["status"] == "passed", steps


def test_every_run_of_a_fleet_is_a_row_from_its_start_to_its_end(
        fleet_inventory: Path, tmp_path: Path) -> None:
    """What the board's sites page reads: one fleet id, each site's exit and path."""
    from datetime import UTC, datetime, timedelta

    from agent.tickets.storage.runs import RunLog

    db = tmp_path / "t.db"
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "fleet", str(HEALTH_CHECK), "--inventory",
         str(fleet_inventory), "--json", "--db", str(db), "--output", str(tmp_path / "out")],
        env={**os.environ, PASSWORD_VARIABLE: PASSWORD}, capture_output=True, text=True,
        timeout=120, check=False)
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    with RunLog(db) as log:
        rows = log.recent(since=datetime.now(UTC) - timedelta(hours=1))
    assert sorted(r.site_id for r in rows) == sorted(line["site"] for line in lines)
    assert len({r.fleet_id for r in rows}) == 1 and rows[0].fleet_id is not None
    exits = {line["site"]: line["exit"] for line in lines}
    assert all(r.finished_at is not None and r.exit_code == exits[r.site_id] for r in rows)
    assert {r.site_id: r.status for r in rows}["site-a"] == "passed"
