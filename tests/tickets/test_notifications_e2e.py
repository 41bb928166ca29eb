"""Notifications end to end: register → outbox → real SMTP server / real webhook receiver.

Nothing of the project's own is mocked. The servers run in this process (aiosmtpd,
http.server); flushers run in this process, in spawned processes, or as the CLI.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.inventory import load_inventory
from agent.tickets.flush import flush_outbox
from agent.tickets.model import RunDetails
from agent.tickets.register import Register
from agent.tickets.settings import NotificationSettings, settings_from_inventory

from .conftest import classification, record
from .servers import Hook, Mailbox, make_tls, smtp_server, webhook_server

SECRET_VAR = "PBXDIAG_E2E_WEBHOOK_SECRET"
SECRET = "hook-Secret-4411"
PASSWORD_VAR = "PBXDIAG_E2E_SMTP_PASSWORD"
PASSWORD = "smtp-Pass-9087"
SUBJECT = "[FR-2026-000001] P2 Major System Failure — Acme Ltd, Bolton"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

INVENTORY = """\
sites:
  acme-bolton:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    paths: ["ssh://INSTALLER@127.0.0.1:2222"]
notifications:
{sections}
  escalate_to:
    account_manager: [am@21plus.example]
  retry: {{first_delay_minutes: 1, max_delay_minutes: 8, max_attempts: 3}}
"""


def email_section(port: int, *, tls_ca: Path | None = None) -> str:
    lines = ["  email:", "    host: 127.0.0.1", f"    port: {port}",
             "    from: pbxdiag@21plus.example", "    to: [support@21plus.example]",
             "    timeout: 10"]
    if tls_ca is None:
        lines.append("    starttls: false")
    else:
        lines += ["    starttls: true", "    username: pbxdiag",
                  f"    password_env: {PASSWORD_VAR}", f"    ca_file: {tls_ca}"]
    return "\n".join(lines)


def webhook_section(url: str) -> str:
    return f"  webhook:\n    url: \"{url}\"\n    secret_env: {SECRET_VAR}\n    timeout: 10"


def write_inventory(folder: Path, *sections: str) -> Path:
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY.format(sections="\n".join(sections)))
    return path


def settings(inventory: Path) -> NotificationSettings:
    return settings_from_inventory(load_inventory(inventory))


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_VAR, SECRET)
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_server() as receiver:
        yield receiver


def clock(moment: datetime) -> Any:
    return lambda: moment


def verify(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-pbxdiag-signature"], expected)


def a_ticket_with_three_notifications(db: Path) -> str:
    """Opened (P2), escalated to the account manager, resolved remotely."""
    with Register(db) as reg:
        ref = record(reg, c=classification("P2", rule="all-trunks-down"), now=T0,
                     run=RunDetails(transcript="/data/runs/r1/transcript.jsonl",
                                    excerpt="CO 01 FLT\nCO 02 FLT")).ticket.ref
        reg.escalate_due(now=T0 + timedelta(hours=4))
        reg.set_state(ref, "remote_diagnosis", who="alice", now=T0 + timedelta(hours=5))
        reg.resolve(ref, "remote", who="alice", now=T0 + timedelta(hours=6))
    return ref


# --- delivery ----------------------------------------------------------------------------


def test_mail_threads_and_webhook_is_signed(db: Path | str, tmp_path: Path, mailbox: Mailbox,
                                            hook: Hook) -> None:
    ref = a_ticket_with_three_notifications(db)
    config = settings(write_inventory(tmp_path, email_section(mailbox.port),
                                      webhook_section(hook.url)))
    with Register(db) as reg:
        report = flush_outbox(reg, config, clock=clock(T0 + timedelta(hours=7)))
        assert report.ok and len(report.sent) == 6
        assert {m.status for m in reg.outbox()} == {"sent"}
        again = flush_outbox(reg, config, clock=clock(T0 + timedelta(days=30)))
        assert again.sent == [] and again.ok

    first, escalated, resolved = mailbox.messages
    assert first["Subject"] == SUBJECT
    assert escalated["Subject"] == f"{SUBJECT} (escalated to account manager)"
    assert resolved["Subject"] == f"{SUBJECT} (resolved)"
    root = f"<{ref}@21plus.example>"
    assert first["Message-ID"] == root and first["In-Reply-To"] is None
    for later, seq in ((escalated, 2), (resolved, 3)):
        assert later["Message-ID"] == f"<{ref}.{seq}@21plus.example>"
        assert later["In-Reply-To"] == later["References"] == root
    assert mailbox.recipients == [["support@21plus.example"],
                                  ["support@21plus.example", "am@21plus.example"],
                                  ["support@21plus.example"]]
    body = first.get_body().get_content()  # type: ignore[union-attr]
    assert "  - CO 01–08 fault (cab 1 slot 03)" in body
    assert "  | CO 01 FLT" in body and "/data/runs/r1/transcript.jsonl" in body

    assert len(hook.received) == 3
    for (headers, body_bytes), event in zip(hook.received, ("opened", "escalated", "resolved"),
                                            strict=True):
        assert verify(headers, body_bytes)
        payload = json.loads(body_bytes)
        assert (payload["event"], headers["x-pbxdiag-event"]) == (event, event)
        assert headers["x-pbxdiag-delivery"] == payload["event_id"]
    tampered = hook.received[0][1].replace(b"P2", b"P3")
    assert not verify(hook.received[0][0], tampered)


def test_starttls_and_auth_against_a_real_server(db: Path | str, tmp_path: Path) -> None:
    tls = make_tls(tmp_path)
    with Register(db) as reg:
        record(reg, c=classification("P2"), now=T0)
    with smtp_server(tls=tls.server, login=("pbxdiag", PASSWORD)) as box, Register(db) as reg:
        config = settings(write_inventory(tmp_path, email_section(box.port, tls_ca=tls.ca_file)))
        report = flush_outbox(reg, config, clock=clock(T0))
        assert report.sent == ["FR-2026-000001.1 email"]
        assert report.skipped == ["FR-2026-000001.1 webhook"]  # no webhook configured
        assert [m["Subject"] for m in box.messages] == [SUBJECT]


def test_a_wrong_password_is_retried_and_never_written_down(
        db: Path | str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tls = make_tls(tmp_path)
    with Register(db) as reg:
        record(reg, c=classification("P2"), now=T0)
    monkeypatch.setenv(PASSWORD_VAR, "Wrong-Pass-5521")
    with smtp_server(tls=tls.server, login=("pbxdiag", PASSWORD)) as box, Register(db) as reg:
        config = settings(write_inventory(tmp_path, email_section(box.port, tls_ca=tls.ca_file)))
        report = flush_outbox(reg, config, clock=clock(T0))
        assert report.sent == [] and len(report.retrying) == 1
        (row,) = reg.outbox(channel="email")
        assert (row.status, row.attempts, row.next_attempt_at) == (
            "pending", 1, T0 + timedelta(minutes=1))
        assert row.last_error is not None and "SMTPAuthenticationError" in row.last_error
        assert "Wrong-Pass-5521" not in row.last_error + " ".join(report.retrying)
        assert box.messages == []


def test_webhook_failure_backs_off_then_delivers_once(
        db: Path | str, tmp_path: Path, hook: Hook) -> None:
    with Register(db) as reg:
        record(reg, now=T0)
    hook.statuses = [500, 503]
    config = settings(write_inventory(tmp_path, webhook_section(hook.url)))
    with Register(db) as reg:
        first = flush_outbox(reg, config, clock=clock(T0))
        assert first.retrying == ["FR-2026-000001.1 webhook: webhook http://127.0.0.1: HTTP 500"]
        assert first.skipped == ["FR-2026-000001.1 email"]
        assert flush_outbox(reg, config, clock=clock(T0 + timedelta(seconds=59))).retrying == []
        second = flush_outbox(reg, config, clock=clock(T0 + timedelta(minutes=1)))
        assert len(second.retrying) == 1  # 503: now wait two minutes
        (row,) = reg.outbox(channel="webhook")
        assert (row.attempts, row.next_attempt_at) == (2, T0 + timedelta(minutes=3))
        third = flush_outbox(reg, config, clock=clock(T0 + timedelta(minutes=3)))
        assert len(third.sent) == 1
        (row,) = reg.outbox(channel="webhook")
        assert (row.status, row.attempts, row.sent_at) == ("sent", 3, T0 + timedelta(minutes=3))
    deliveries = {headers["x-pbxdiag-delivery"] for headers, _ in hook.received}
    assert len(hook.received) == 3 and deliveries == {"FR-2026-000001.1"}


def test_delivery_gives_up_after_the_last_attempt(
        db: Path | str, tmp_path: Path, hook: Hook) -> None:
    with Register(db) as reg:
        record(reg, now=T0)
    hook.statuses = [500] * 10
    config = settings(write_inventory(tmp_path, webhook_section(hook.url)))
    with Register(db) as reg:
        for minutes in (0, 1, 3):
            flush_outbox(reg, config, clock=clock(T0 + timedelta(minutes=minutes)))
        (row,) = reg.outbox(channel="webhook")
        assert (row.status, row.attempts) == ("failed", 3)
        assert flush_outbox(reg, config, clock=clock(T0 + timedelta(days=1))).sent == []


def test_later_messages_wait_for_the_first_of_their_ticket(
        db: Path | str, tmp_path: Path, hook: Hook) -> None:
    a_ticket_with_three_notifications(db)
    hook.statuses = [500]
    config = settings(write_inventory(tmp_path, webhook_section(hook.url)))
    with Register(db) as reg:
        flush_outbox(reg, config, clock=clock(T0 + timedelta(hours=7)))
        assert [json.loads(b)["seq"] for _, b in hook.received] == [1]  # 2 and 3 held back
        flush_outbox(reg, config, clock=clock(T0 + timedelta(hours=8)))
    assert [json.loads(b)["seq"] for _, b in hook.received] == [1, 1, 2, 3]


def test_an_expired_lease_is_taken_over_once(
        db: Path | str, tmp_path: Path, mailbox: Mailbox) -> None:
    """A flusher died after claiming: nobody sends until its lease runs out, then one does."""
    with Register(db) as reg:
        record(reg, now=T0)
    config = settings(write_inventory(tmp_path, email_section(mailbox.port)))
    with Register(db) as reg:
        dead = reg.claim_next(owner="dead-flusher", now=T0, lease=config.lease)
        assert dead is not None and dead.channel == "email"
        meanwhile = flush_outbox(reg, config, clock=clock(T0 + timedelta(minutes=1)))
        assert (meanwhile.sent, meanwhile.skipped) == ([], ["FR-2026-000001.1 webhook"])
        assert mailbox.messages == []
        taken = flush_outbox(reg, config, clock=clock(T0 + config.lease))
        assert taken.sent == ["FR-2026-000001.1 email"]
        assert not reg.finish_delivery(dead.id, owner="dead-flusher", status="sent", now=T0)
    assert len(mailbox.messages) == 1


# --- crash between commit and delivery ----------------------------------------------------


def _commit_then_die(db: str) -> None:
    """Open a ticket (the transaction commits with its outbox rows), then die at once."""
    with Register(db) as reg:
        record(reg, c=classification("P2"), now=datetime.now(UTC))
        os.kill(os.getpid(), signal.SIGKILL)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SECRET_VAR: SECRET}
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_process_killed_after_commit_still_delivers_exactly_once(
        db: Path | str, tmp_path: Path, mailbox: Mailbox, hook: Hook) -> None:
    child = multiprocessing.get_context("spawn").Process(target=_commit_then_die,
                                                         args=(str(db),))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL
    assert mailbox.messages == [] and hook.received == []
    inventory = write_inventory(tmp_path, email_section(mailbox.port), webhook_section(hook.url))

    first = _cli("tickets", "outbox", "flush", "--inventory", str(inventory), "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "outbox: 2 sent, 0 failed, 0 waiting\n" in first.stdout
    assert [m["Subject"] for m in mailbox.messages] == [SUBJECT]
    assert len(hook.received) == 1 and verify(*hook.received[0])

    second = _cli("tickets", "outbox", "flush", "--inventory", str(inventory), "--db", str(db))
    assert second.returncode == 0, second.stderr
    assert "outbox: 0 sent" in second.stdout
    assert len(mailbox.messages) == 1 and len(hook.received) == 1
    assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr


# --- two flushers at once ------------------------------------------------------------------


def _flush_in_process(db: str, inventory: str, barrier: Any, out: Any) -> None:
    os.environ[SECRET_VAR] = SECRET
    barrier.wait()
    with Register(db) as reg:
        report = flush_outbox(reg, settings(Path(inventory)))
    out.put(report.sent)


def test_concurrent_flushers_never_send_a_message_twice(
        db: Path | str, tmp_path: Path, mailbox: Mailbox, hook: Hook) -> None:
    """Four processes flush one outbox at once (on PostgreSQL: rows claimed FOR UPDATE
    SKIP LOCKED): every message is sent, none twice."""
    now = datetime.now(UTC)
    with Register(db) as reg:
        for n in range(15):
            record(reg, c=classification(signature=f"s{n}"), run_id=f"r{n}", now=now)
    inventory = write_inventory(tmp_path, email_section(mailbox.port), webhook_section(hook.url))
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    workers = [ctx.Process(target=_flush_in_process,
                           args=(str(db), str(inventory), barrier, out)) for _ in range(4)]
    for w in workers:
        w.start()
    sent = [label for _ in workers for label in out.get(timeout=120)]
    for w in workers:
        w.join(timeout=120)
    assert len(sent) == len(set(sent)) == 30
    ids = mailbox.ids()
    assert len(ids) == len(set(ids)) == 15
    deliveries = [h["x-pbxdiag-delivery"] for h, _ in hook.received]
    assert len(deliveries) == len(set(deliveries)) == 15
