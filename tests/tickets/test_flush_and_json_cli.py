"""``outbox flush`` says sent / failed / waiting and ``--now`` retries; ``--json`` on the
ticket changes; ``resolve`` from any open state records the moves between (real CLI,
real register file, real SMTP server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.tickets.register import Register

from .conftest import classification, record
from .servers import free_port, smtp_server
from .test_cli import run_cli

INVENTORY = """\
sites:
  acme-bolton: {{customer: Acme Ltd, name: Bolton, vendor: panasonic,
                paths: ['ssh://x@127.0.0.1:22']}}
notifications:
  email: {{host: 127.0.0.1, port: {port}, starttls: false, timeout: 5,
          from: pbxdiag@21plus.example, to: [support@21plus.example]}}
  retry: {{first_delay_minutes: 30}}
"""


@pytest.fixture
def ref(db: Path) -> str:
    """A P2 ticket logged a month ago (its "opened" mail queued, per channel)."""
    with Register(db) as reg:
        return record(reg, c=classification("P2", rule="all-trunks-down"),
                      now=datetime.now(UTC) - timedelta(days=30)).ticket.ref


def _inventory(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(port=port))
    return path


def test_flush_lists_what_waits_in_back_off_and_now_retries_it(
        capsys: pytest.CaptureFixture[str], db: Path, ref: str, tmp_path: Path) -> None:
    d = ("--db", str(db))
    down = _inventory(tmp_path, free_port())  # nothing listens: the mail cannot go
    code, out, _ = run_cli(capsys, "tickets", "outbox", "flush", "--inventory", str(down), *d)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "outbox: 0 sent, 0 failed, 1 waiting, 1 skipped"
    assert lines[1].startswith(f"  waiting: {ref}.1 email opened: next attempt ")
    assert "(attempts 1; last error: " in lines[1]
    code, out, _ = run_cli(capsys, "tickets", "outbox", "flush", "--inventory", str(down),
                           "--json", *d)
    report = json.loads(out)
    assert code == 1 and report["sent"] == [] and report["failed"] == []
    (waiting,) = report["waiting"]
    assert (waiting["event_id"], waiting["attempts"], waiting["due"]) == (f"{ref}.1", 1, False)
    assert waiting["next_attempt_at"] > waiting["created_at"]

    with smtp_server() as mailbox:
        up = _inventory(tmp_path, mailbox.port)
        code, out, _ = run_cli(capsys, "tickets", "outbox", "flush", "--inventory", str(up),
                               *d)
        assert (code, out.splitlines()[0]) == (1, "outbox: 0 sent, 0 failed, 1 waiting")
        assert mailbox.messages == []  # still in back-off: not tried
        code, out, _ = run_cli(capsys, "tickets", "outbox", "flush", "--inventory", str(up),
                               "--now", *d)
        assert (code, out) == (0, "outbox: 1 sent, 0 failed, 0 waiting (1 retried now)\n")
    (mail,) = mailbox.messages
    assert str(mail["Message-ID"]) == f"<{ref}@21plus.example>"  # the thread's first


def test_flush_now_with_the_server_still_down_keeps_it_waiting_and_counts_the_try(
        capsys: pytest.CaptureFixture[str], db: Path, ref: str, tmp_path: Path) -> None:
    d = ("--db", str(db))
    down = _inventory(tmp_path, free_port())
    run_cli(capsys, "tickets", "outbox", "flush", "--inventory", str(down), *d)
    code, out, _ = run_cli(capsys, "tickets", "outbox", "flush", "--inventory", str(down),
                           "--now", "--json", *d)
    report = json.loads(out)
    assert code == 1 and report["retried_now"] == 1
    assert [m["attempts"] for m in report["waiting"]] == [2]


def test_resolve_remotely_from_new_records_each_move(
        capsys: pytest.CaptureFixture[str], db: Path, ref: str) -> None:
    d = ("--db", str(db))
    code, out, err = run_cli(capsys, "tickets", "resolve", ref, "--remote", "--note",
                             "trunk card reset", "--by", "alice", *d)
    assert (code, out) == (0, f"{ref}: resolved_remotely (via remote_diagnosis)\n"), err
    shown = json.loads(run_cli(capsys, "tickets", "show", ref, "--json", *d)[1])
    moves = [(a["who"], a["detail"]) for a in shown["audit"] if a["action"] == "state_changed"]
    assert moves == [("alice", "logged -> remote_diagnosis: on the way to resolved_remotely"),
                     ("alice", "remote_diagnosis -> resolved_remotely: trunk card reset")]
    assert shown["ticket"]["responded_at"] is not None  # remote diagnosis is the response
    assert [n["event"] for n in shown["notifications"]].count("resolved") == 2  # per channel
    code, _, err = run_cli(capsys, "tickets", "resolve", ref, "--on-site", *d)
    assert code == 2 and "cannot go from resolved_remotely to resolved" in err


def test_resolve_on_site_from_new_passes_a_visit_by_whoever_resolved(
        capsys: pytest.CaptureFixture[str], db: Path, ref: str) -> None:
    d = ("--db", str(db))
    code, out, _ = run_cli(capsys, "tickets", "resolve", ref, "--on-site", "--by", "dave",
                           "--json", *d)
    shown = json.loads(out)
    assert code == 0 and shown["ticket"]["state"] == "resolved"
    assert shown["ticket"]["visit_engineer"] == "dave"
    assert [a["detail"].split(":")[0] for a in shown["audit"]
            if a["action"] == "state_changed"] == ["logged -> visit_booked",
                                                   "visit_booked -> resolved"]


def test_note_status_and_book_visit_print_the_ticket_as_show_json_does(
        capsys: pytest.CaptureFixture[str], db: Path, ref: str) -> None:
    d = ("--db", str(db))
    code, out, _ = run_cli(capsys, "tickets", "note", ref, "customer called", "--by", "eve",
                           "--json", *d)
    noted = json.loads(out)
    assert code == 0 and noted["audit"][-1]["detail"] == "customer called"
    assert noted == json.loads(run_cli(capsys, "tickets", "show", ref, "--json", *d)[1])
    code, out, _ = run_cli(capsys, "tickets", "status", ref, "remote_diagnosis", "--json", *d)
    assert code == 0 and json.loads(out)["ticket"]["state"] == "remote_diagnosis"
    code, out, _ = run_cli(capsys, "tickets", "book-visit", ref, "--date", "2099-01-05",
                           "--engineer", "Dave", "--json", *d)
    assert code == 0 and json.loads(out)["ticket"]["visit_engineer"] == "Dave"
    code, out, err = run_cli(capsys, "tickets", "status", ref, "fixed", "--json", *d)
    assert (code, out) == (2, "") and "unknown ticket state" in err
