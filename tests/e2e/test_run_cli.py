"""`pbxdiag run` end to end: CLI → SSH → simulator → playbook → ticket register.

Nothing of the project's own is mocked: the CLI runs in a child process and talks real
SSH to the simulator served from this process.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from simulators import load_or_create_host_key

from .conftest import HEALTH_CHECK, PASSWORD, Site


def ticket_rows(db: Path) -> list[tuple[str, str, int]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT ref, priority, (SELECT COUNT(*) FROM occurrences AS o"
            " WHERE o.ref = t.ref AND o.kind = 'fault') FROM tickets AS t").fetchall()


def test_dead_trunk_card_opens_one_p2_ticket_then_adds_occurrences(faulty_site: Site) -> None:
    first = faulty_site.run_health_check()
    assert first.returncode == 1, first.stderr
    assert "P2 Major System Failure" in first.stdout
    assert "Major fault" in first.stdout
    assert "opened" in first.stdout
    (ref, priority, seen), = ticket_rows(faulty_site.db)
    assert (priority, seen) == ("P2", 1)
    assert ref in first.stdout

    second = faulty_site.run_health_check()
    assert second.returncode == 1
    assert f"{ref} already open" in second.stdout
    assert ticket_rows(faulty_site.db) == [(ref, "P2", 2)]


def test_json_result_records_path_steps_and_bytes(faulty_site: Site) -> None:
    run = faulty_site.run_health_check("--json")
    assert run.returncode == 1
    result = json.loads(run.stdout)
    assert result["status"] == "failed"
    assert result["path"] == f"ssh://INSTALLER@127.0.0.1:{faulty_site.endpoint.port}"
    statuses = {s["name"]: s["status"] for s in result["steps"]}
    assert statuses["External calls possible"] == "failed"
    assert statuses["Internal calls possible"] == "ok"
    assert result["bytes_in"] > 0 and result["bytes_out"] > 0
    assert {t["state"] for t in result["facts"]["trunks"]} == {"fault"}
    transcript = Path(result["transcript"]).read_text()
    assert "BYE" in transcript  # a clean logout: the PBX released the session
    saved = Path(result["transcript"]).parent / "result.json"
    assert json.loads(saved.read_text())["run_id"] == result["run_id"]


def test_healthy_site_passes_and_opens_nothing(healthy_site: Site) -> None:
    run = healthy_site.run_health_check()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all checks passed" in run.stdout
    assert ticket_rows(healthy_site.db) == []


def test_fault_cleared_after_ticket_records_all_clear(faulty_site: Site) -> None:
    assert faulty_site.run_health_check().returncode == 1
    faulty_site.pbx.clear_fault("dead_card", slot=3)
    cleared = faulty_site.run_health_check()
    assert cleared.returncode == 0
    (ref, _, _), = ticket_rows(faulty_site.db)
    assert f"all clear: recorded on open ticket(s) {ref}" in cleared.stdout


def test_unreachable_site_exits_3_and_opens_no_ticket(faulty_site: Site) -> None:
    faulty_site.write_inventory("ssh://INSTALLER@127.0.0.1:1")
    run = faulty_site.run_health_check()
    assert run.returncode == 3
    assert "cannot connect" in run.stdout
    assert "Traceback" not in run.stderr
    assert ticket_rows(faulty_site.db) == []


def test_changed_host_key_is_refused(faulty_site: Site, tmp_path: Path) -> None:
    impostor = load_or_create_host_key(tmp_path / "other_key")
    line = f"[127.0.0.1]:{faulty_site.endpoint.port} {impostor.get_name()} {impostor.get_base64()}"
    (faulty_site.workdir / "known_hosts").write_text(line + "\n")
    run = faulty_site.run_health_check()
    assert run.returncode == 3
    assert "has CHANGED" in run.stdout
    assert ticket_rows(faulty_site.db) == []


def test_unknown_host_key_is_refused(faulty_site: Site) -> None:
    (faulty_site.workdir / "known_hosts").write_text("")
    run = faulty_site.run_health_check()
    assert run.returncode == 3
    assert "unknown host key" in run.stdout


def test_wrong_password_exits_3_and_never_shows_it(faulty_site: Site) -> None:
    wrong = "Wrong-Guess-55"
    run = faulty_site.pbxdiag("run", str(HEALTH_CHECK), "--site", "acme-bolton",
                              "--inventory", str(faulty_site.inventory), "--db",
                              str(faulty_site.db), "--output", str(faulty_site.output),
                              password=wrong)
    assert run.returncode == 3
    assert "refused the credentials" in run.stdout
    assert wrong not in run.stdout + run.stderr


def test_secret_never_written_anywhere(faulty_site: Site) -> None:
    run = faulty_site.run_health_check("--json")
    assert PASSWORD not in run.stdout + run.stderr
    for path in faulty_site.workdir.rglob("*"):
        if path.is_file() and path.name not in {"host_key", "inventory.yaml"}:
            assert PASSWORD.encode() not in path.read_bytes(), path
