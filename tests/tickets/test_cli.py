"""``pbxdiag tickets …`` through the real CLI entry point, on a real register file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.cli import main
from agent.tickets.register import Register

from .conftest import classification, record
from .servers import smtp_server


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ref(db: Path) -> str:
    with Register(db) as reg:
        return record(reg, c=classification("P2", rule="all-trunks-down"),
                      now=datetime.now(UTC) - timedelta(days=30)).ticket.ref


def test_lifecycle_from_the_command_line(capsys: pytest.CaptureFixture[str], db: Path,
                                         ref: str) -> None:
    d = ("--db", str(db))
    assert run_cli(capsys, "tickets", "status", ref, "remote_diagnosis", "--by", "alice",
                   "--note", "dialled in", *d)[:2] == (0, f"{ref}: remote_diagnosis\n")
    assert run_cli(capsys, "tickets", "note", ref, "customer reports storm", "--by", "alice",
                   *d)[0] == 0
    code, out, _ = run_cli(capsys, "tickets", "book-visit", ref, "--date", "2099-01-05",
                           "--engineer", "Dave", "--parts", "KX-TDA0180", "PSU", "--by",
                           "alice", *d)
    assert code == 0 and "visit booked for 2099-01-05, Dave (KX-TDA0180, PSU)" in out
    assert run_cli(capsys, "tickets", "resolve", ref, "--on-site", "--by", "dave", *d)[:2] == (
        0, f"{ref}: resolved\n")
    code, out, _ = run_cli(capsys, "tickets", "show", ref, "--json", *d)
    shown = json.loads(out)
    assert shown["ticket"]["state"] == "resolved"
    assert shown["ticket"]["visit_parts"] == ["KX-TDA0180", "PSU"]
    assert [(a["who"], a["action"]) for a in shown["audit"]] == [
        ("pbxdiag", "opened"), ("alice", "state_changed"), ("alice", "note"),
        ("alice", "state_changed"), ("dave", "state_changed")]
    assert [n["event"] for n in shown["notifications"]] == ["opened"] * 2 + ["resolved"] * 2
    code, out, _ = run_cli(capsys, "tickets", "show", ref, *d)
    assert "visit:      Mon 05 Jan 2099, engineer Dave" in out
    assert "resolved:   on site" in out


def test_refused_moves_and_bad_input_exit_2_with_a_clear_message(
        capsys: pytest.CaptureFixture[str], db: Path, ref: str) -> None:
    d = ("--db", str(db))
    code, _, err = run_cli(capsys, "tickets", "status", ref, "closed", *d)
    assert code == 2
    assert err == (f"pbxdiag: {ref}: cannot go from logged to closed (allowed from "
                   "logged: cancelled, remote_diagnosis, visit_booked)\n")
    code, _, err = run_cli(capsys, "tickets", "status", ref, "fixed", *d)
    assert code == 2 and "unknown ticket state 'fixed'" in err
    code, _, err = run_cli(capsys, "tickets", "status", "FR-2026-999999", "closed", *d)
    assert code == 2 and "no fault ticket 'FR-2026-999999'" in err
    code, _, err = run_cli(capsys, "tickets", "note", ref, " ", *d)
    assert code == 2 and "needs some text" in err
    for bad in (["book-visit", ref, "--date", "next tuesday", "--engineer", "Dave"],
                ["resolve", ref], ["stats", "--since", "yesterday"]):
        with pytest.raises(SystemExit) as caught:
            main(["tickets", *bad, *d])
        assert caught.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_list_stats_and_outbox(capsys: pytest.CaptureFixture[str], db: Path, ref: str) -> None:
    d = ("--db", str(db))
    code, out, _ = run_cli(capsys, "tickets", "list", "--open", "--site", "acme-bolton", *d)
    assert code == 0 and ref in out and "all-trunks-down summary" in out
    assert json.loads(run_cli(capsys, "tickets", "list", "--json", *d)[1])[0]["ref"] == ref
    code, out, _ = run_cli(capsys, "tickets", "stats", *d)
    assert code == 0
    assert "tickets all time: 1 (1 open, 0 flapping)" in out
    assert "by priority:  P1 0, P2 1, P3 0" in out
    assert "remote resolution: n/a of 0 resolved" in out and "target 80%" in out
    assert "response SLA:      0% met (0 met, 1 missed, 0 pending)" in out
    stats = json.loads(run_cli(capsys, "tickets", "stats", "--since", "2000-01-01", "--json",
                               *d)[1])
    assert (stats["total"], stats["response"]["missed"], stats["remote_rate"]) == (1, 1, None)
    assert json.loads(run_cli(capsys, "tickets", "stats", "--since", "2999-01-01", "--json",
                              *d)[1])["total"] == 0
    code, out, _ = run_cli(capsys, "tickets", "outbox", "list", "--status", "pending", *d)
    assert code == 0 and f"{ref}.1" in out and "opened" in out


def test_escalate_enqueues_and_with_an_inventory_delivers(
        capsys: pytest.CaptureFixture[str], db: Path, ref: str, tmp_path: Path) -> None:
    d = ("--db", str(db))
    code, out, _ = run_cli(capsys, "tickets", "escalate", *d)  # opened 30 days ago
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith(f"escalated {ref} to account manager (due ")
    assert lines[1].startswith(f"escalated {ref} to technical director (due ")
    assert run_cli(capsys, "tickets", "escalate", *d)[1] == "no escalation due\n"
    with smtp_server() as box:
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(
            "sites:\n  acme-bolton: {customer: Acme Ltd, name: Bolton, vendor: panasonic,"
            " paths: ['ssh://x@127.0.0.1:22']}\n"
            f"notifications:\n  email: {{host: 127.0.0.1, port: {box.port}, starttls: false,"
            " from: pbxdiag@21plus.example, to: [support@21plus.example]}\n")
        code, out, _ = run_cli(capsys, "tickets", "escalate", "--inventory", str(inventory), *d)
        assert (code, out) == (0, "no escalation due\noutbox: 3 sent, 0 failed, 0 waiting,"
                                  " 3 skipped\n")
        assert [m["Subject"] for m in box.messages] == [
            f"[{ref}] P2 Major System Failure — Acme Ltd, Bolton",
            f"[{ref}] P2 Major System Failure — Acme Ltd, Bolton (escalated to account manager)",
            f"[{ref}] P2 Major System Failure — Acme Ltd, Bolton "
            "(escalated to technical director)"]


def test_default_register_is_in_the_xdg_data_dir(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert run_cli(capsys, "tickets", "list")[:2] == (0, "no tickets\n")
    assert (tmp_path / "xdg" / "pbxdiag" / "tickets.db").exists()


def test_flush_without_notifications_is_bad_input(capsys: pytest.CaptureFixture[str],
                                                  db: Path, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("sites:\n  a: {customer: A, vendor: panasonic, paths: ['ssh://x@h']}\n")
    code, _, err = run_cli(capsys, "tickets", "outbox", "flush", "--inventory", str(inventory),
                           "--db", str(db))
    assert code == 2 and "no notifications: section" in err
