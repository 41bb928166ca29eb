"""``pbxdiag register migrate`` and ``register copy``, and the register's errors on the CLI.

Real CLI in a subprocess, a real SQLite file and the session's real PostgreSQL server.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from agent.tickets.register import Register
from agent.tickets.schema import MIGRATIONS, v1_initial
from agent.tickets.storage.runs import RunLog
from tests.dbservers import PostgresServer, fresh_database

from .conftest import NOW, classification, record


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def _filled(path: Path) -> list[str]:
    """A SQLite register with tickets, notifications, an action, a window and a run."""
    with Register(path) as reg:
        refs = [record(reg, c=classification(signature=f"s{n}"), run_id=f"r{n}").ticket.ref
                for n in range(3)]
        reg.resolve(refs[0], "remote", who="adam", now=NOW + timedelta(hours=1))
        reg.record_engineer_action(site_id="acme-bolton", customer="Acme", run_id="ea-1",
                                   kind="half_programmed", detail="d", now=NOW)
        reg.set_maintenance("acme-leeds", starts=NOW, ends=NOW + timedelta(days=3),
                            reason="card swap", who="adam", now=NOW)
    with RunLog(path) as runs:
        runs.started(run_id="r0", site_id="acme-bolton", playbook="health-check", at=NOW)
    return refs


def test_copy_to_postgresql_keeps_every_row_and_the_reference_counter(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    source = tmp_path / "register.db"
    refs = _filled(source)
    with Register(source) as reg:
        before = (reg.list_tickets(), reg.outbox(), [reg.audit(r) for r in refs])
    url = fresh_database(postgres_server)
    done = _cli("register", "copy", "--from", f"sqlite:{source}", "--to", url, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["schema_version"] == len(MIGRATIONS)
    rows = report["rows"]
    assert (rows["tickets"], rows["engineer_actions"], rows["maintenance"], rows["runs"]) == (
        3, 1, 1, 1)
    assert rows["outbox"] == len(before[1]) and rows["counters"] == 2
    with Register(url) as reg:
        assert (reg.list_tickets(), reg.outbox(), [reg.audit(r) for r in refs]) == before
        filed = record(reg, c=classification(signature="new"), run_id="r-new")
        assert filed.ticket.ref == "FR-2026-000004"  # the counter moved with the rows
        newest = max(m.id for m in reg.outbox())
        assert newest > max(m.id for m in before[1])  # ids continue past the copied ones
        assert len(reg.maintenance_windows(site_id="acme-leeds")) == 1
    listed = _cli("tickets", "list", "--db", url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert "FR-2026-000004" in listed.stdout


def test_copy_into_a_register_that_is_not_empty_is_refused(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    source = tmp_path / "register.db"
    _filled(source)
    url = fresh_database(postgres_server)
    assert _cli("register", "copy", "--from", str(source), "--to", url).returncode == 0
    again = _cli("register", "copy", "--from", str(source), "--to", url)
    assert again.returncode == 2
    assert "not empty" in again.stderr and "Traceback" not in again.stderr
    with Register(url) as reg:
        assert len(reg.list_tickets()) == 3  # nothing doubled
    back = tmp_path / "back.db"
    home = _cli("register", "copy", "--from", url, "--to", str(back), "--json")
    assert home.returncode == 0, home.stderr
    assert json.loads(home.stdout)["rows"]["tickets"] == 3
    with Register(back) as reg:
        assert record(reg, c=classification(signature="z"), run_id="z").ticket.ref == (
            "FR-2026-000004")


def test_migrate_reports_from_and_to(tmp_path: Path, postgres_server: PostgresServer) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    v1_initial(conn)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    first = _cli("register", "migrate", "--db", str(old), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"register": str(old), "from": 1, "to": len(MIGRATIONS)}
    again = _cli("register", "migrate", "--db", str(old))
    assert again.returncode == 0 and "up to date" in again.stdout
    url = fresh_database(postgres_server)
    fresh = _cli("register", "migrate", "--db", url, "--json")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout)["from"] == 0
    assert json.loads(fresh.stdout)["to"] == len(MIGRATIONS)
    assert json.loads(_cli("register", "migrate", "--db", url, "--json").stdout)["from"] == len(
        MIGRATIONS)


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://desk:s3cret-pw@127.0.0.1:1/register"
    for args in (("tickets", "list", "--db", url), ("register", "migrate", "--db", url),
                 ("register", "copy", "--from", str(tmp_path / "r.db"), "--to", url)):
        done = _cli(*args)
        assert done.returncode == 2, done.stderr
        assert "s3cret-pw" not in done.stderr + done.stdout
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "desk:***@127.0.0.1:1/register" in done.stderr
