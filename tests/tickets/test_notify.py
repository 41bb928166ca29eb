"""Notification settings and rendering: pure functions over real outbox rows."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from agent.errors import InventoryError
from agent.inventory import load_inventory
from agent.line.secrets import SecretRef
from agent.tickets.channels.smtp import EmailSettings, recipients
from agent.tickets.channels.webhook import WebhookSettings
from agent.tickets.model import OutboxMessage, RunDetails
from agent.tickets.register import Register
from agent.tickets.render import (
    email_body,
    render_email,
    sign,
    subject,
    thread_ids,
    webhook_body,
    webhook_headers,
)
from agent.tickets.settings import RetryPolicy, settings_from_inventory

from .conftest import NOW, classification, record

INVENTORY = """\
contracts:
  gold: {{major_response_hours: 2}}
sites:
  acme-bolton:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    contract: gold
    paths: ["ssh://INSTALLER@127.0.0.1:2222"]
{notifications}"""

NOTIFICATIONS = """\
notifications:
  email:
    host: smtp.example.net
    username: pbxdiag
    password_env: PBXDIAG_TEST_SMTP_PASSWORD
    from: "pbxdiag <pbxdiag@21plus.example>"
    to: [support@21plus.example]
  webhook:
    url: https://helpdesk.example/hooks/pbxdiag?token=abc
    secret_file: secrets/webhook
  escalate_to:
    account_manager: [am@21plus.example]
    technical_director: [td@21plus.example]
  contracts:
    gold:
      to: [gold@21plus.example]
      escalate_to: {account_manager: [gold-am@21plus.example]}
  retry: {first_delay_minutes: 2, max_delay_minutes: 30, max_attempts: 5}
"""


def inventory(tmp_path: Path, notifications: str = NOTIFICATIONS) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(notifications=notifications))
    return path


def messages(tmp_path: Path) -> list[OutboxMessage]:
    """Real rows: a P2 opened at Friday 09:00, then escalated to the account manager."""
    with Register(tmp_path / "register.db") as reg:
        ref = record(reg, c=classification("P2", rule="all-trunks-down"),
                     run=RunDetails(transcript="/data/runs/r1/transcript.jsonl",
                                    excerpt="CO 01 FLT\nCO 02 FLT",
                                    answers={"power_cut": "no"})).ticket.ref
        reg.escalate_due(now=NOW + timedelta(hours=4))
        return reg.outbox(ref=ref, channel="email")


# --- settings ---------------------------------------------------------------------------


def test_settings_from_the_inventory(tmp_path: Path) -> None:
    settings = settings_from_inventory(load_inventory(inventory(tmp_path)))
    email, webhook = settings.channels["email"], settings.channels["webhook"]
    assert isinstance(email, EmailSettings) and isinstance(webhook, WebhookSettings)
    assert (email.host, email.port, email.starttls, email.ssl, email.username) == (
        "smtp.example.net", 587, True, False, "pbxdiag")
    assert email.domain == "21plus.example"
    assert email.password.env == "PBXDIAG_TEST_SMTP_PASSWORD"
    assert webhook.secret.file == tmp_path / "secrets" / "webhook"
    assert webhook.where == "https://helpdesk.example"  # no token in errors
    assert settings.retry == RetryPolicy(timedelta(minutes=2), timedelta(minutes=30), 5)
    assert recipients(settings, "standard") == ("support@21plus.example",)
    assert recipients(settings, "standard", "technical_director") == (
        "support@21plus.example", "td@21plus.example")
    assert recipients(settings, "gold", "account_manager") == (
        "gold@21plus.example", "gold-am@21plus.example")
    assert recipients(settings, "gold", "technical_director") == (
        "gold@21plus.example", "td@21plus.example")
    assert settings.lease >= timedelta(minutes=5)


def test_inventory_without_notifications_still_loads_but_cannot_flush(tmp_path: Path) -> None:
    inv = load_inventory(inventory(tmp_path, ""))
    assert inv.notifications == {}
    with pytest.raises(InventoryError, match="no notifications: section"):
        settings_from_inventory(inv)


@pytest.mark.parametrize(("section", "message", "line"), [
    ("notifications:\n  email: {host: h, from: a@b, to: [x@y], password_env: A,"
     " password_file: f}\n", "give password_env or password_file, not both", 11),
    ("notifications:\n  webhook: {url: 'ftp://x'}\n", "does not match", 11),
    ("notifications:\n  email: {host: h, from: a@b, to: [not-an-address]}\n",
     "does not match", 11),
    ("notifications:\n  contracts:\n    silver: {to: [a@b]}\n", "unknown contract 'silver'", 12),
    ("notifications:\n  email: {host: h, from: a@b, to: [x@y], ssl: true, starttls: true}\n",
     "ssl \\(implicit TLS\\) or starttls", 11),
    ("notifications:\n  sms: {}\n", "unknown key 'sms'", 11),
])
def test_bad_notification_settings_name_their_line(tmp_path: Path, section: str, message: str,
                                                   line: int) -> None:
    with pytest.raises(InventoryError, match=message) as caught:
        load_inventory(inventory(tmp_path, section))
    assert caught.value.line == line


def test_secret_reference_reads_env_or_file_and_never_shows_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBXDIAG_TEST_SECRET", "s3cret-value")
    secret = SecretRef("the webhook secret", env="PBXDIAG_TEST_SECRET").resolve(InventoryError)
    assert secret is not None and secret.reveal() == "s3cret-value"
    assert "s3cret" not in f"{secret} {secret!r}"
    (tmp_path / "key").write_text("from-file\n")
    from_file = SecretRef("the webhook secret", file=tmp_path / "key").resolve(InventoryError)
    assert from_file is not None and from_file.reveal() == "from-file"
    monkeypatch.delenv("PBXDIAG_TEST_SECRET")
    with pytest.raises(InventoryError, match="PBXDIAG_TEST_SECRET \\(the webhook secret\\)"):
        SecretRef("the webhook secret", env="PBXDIAG_TEST_SECRET").resolve(InventoryError)
    with pytest.raises(InventoryError, match="cannot read the webhook secret file"):
        SecretRef("the webhook secret", file=tmp_path / "nope").resolve(InventoryError)
    assert SecretRef("nothing").resolve(InventoryError) is None


def test_retry_back_off_doubles_up_to_the_cap() -> None:
    policy_ = RetryPolicy(first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=10))
    assert [policy_.delay(n) for n in range(1, 7)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 10, 10)]


# --- rendering ----------------------------------------------------------------------------


def test_subjects_carry_the_reference_priority_and_customer(tmp_path: Path) -> None:
    opened, escalated = messages(tmp_path)
    assert subject(opened.payload) == (
        "[FR-2026-000001] P2 Major System Failure — Acme Ltd, Bolton")
    assert subject(escalated.payload) == (
        "[FR-2026-000001] P2 Major System Failure — Acme Ltd, Bolton "
        "(escalated to account manager)")
    assert subject({**opened.payload, "event": "all_clear"}).endswith("(all clear)")


def test_first_mail_starts_the_thread_and_the_rest_answer_it(tmp_path: Path) -> None:
    opened, escalated = messages(tmp_path)
    assert thread_ids(opened, "x.example") == ("<FR-2026-000001@x.example>", None)
    assert thread_ids(escalated, "x.example") == ("<FR-2026-000001.2@x.example>",
                                                  "<FR-2026-000001@x.example>")


def test_rendered_email_headers_and_body(tmp_path: Path) -> None:
    _, escalated = messages(tmp_path)
    mail = render_email(escalated, sender="pbxdiag <pbxdiag@x.example>",
                        to=["a@x.example", "b@x.example"], domain="x.example")
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == subject(escalated.payload)
    assert parsed["Message-ID"] == "<FR-2026-000001.2@x.example>"
    assert parsed["In-Reply-To"] == parsed["References"] == "<FR-2026-000001@x.example>"
    assert parsed["To"] == "a@x.example, b@x.example"
    assert (parsed["X-Pbxdiag-Ref"], parsed["X-Pbxdiag-Event"]) == ("FR-2026-000001",
                                                                      "escalated")
    body = parsed.get_body().get_content()  # type: ignore[union-attr]
    assert "Event:      escalated — account manager notified" in body
    assert "  - CO 01–08 fault (cab 1 slot 03)" in body
    assert "  | CO 01 FLT\n  | CO 02 FLT" in body
    assert "Full transcript: /data/runs/r1/transcript.jsonl" in body
    assert "  power_cut: no" in body
    assert "Response:   due Fri 27 Nov 2026 13:00 GMT" in body


def test_body_warns_when_the_visit_may_be_chargeable(tmp_path: Path) -> None:
    opened, _ = messages(tmp_path)
    payload = {**opened.payload, "non_covered": "possible non-covered cause: caller reports a "
                                                "power cut"}
    assert ("Cover:      possible non-covered cause: caller reports a power cut — the visit "
            "may be chargeable") in email_body(payload)


def test_webhook_body_is_signed_with_hmac_sha256(tmp_path: Path) -> None:
    opened, _ = messages(tmp_path)
    body = webhook_body(opened)
    assert json.loads(body)["event_id"] == "FR-2026-000001.1"
    headers = webhook_headers(opened, body, "shared-key")
    expected = hmac.new(b"shared-key", body, hashlib.sha256).hexdigest()
    assert headers["X-Pbxdiag-Signature"] == f"sha256={expected}" == sign(body, "shared-key")
    assert headers["X-Pbxdiag-Delivery"] == "FR-2026-000001.1"
    assert "X-Pbxdiag-Signature" not in webhook_headers(opened, body, None)
