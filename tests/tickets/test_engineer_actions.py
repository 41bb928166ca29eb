"""Engineer actions: once per run, numbered apart from faults, queued on every channel."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.tickets import Register
from agent.tickets.channels import names
from agent.tickets.render import email_body, subject

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def test_one_action_per_run_with_a_notice_on_every_channel(db: Path | str, tmp_path: Path) -> None:
    with Register(db) as register:
        first = register.record_engineer_action(
            site_id="acme-bolton", customer="Acme Ltd, Bolton", run_id="run-1",
            kind="half_programmed", detail="PBX LEFT HALF-PROGRAMMED: extension_name 201",
            now=AT)
        again = register.record_engineer_action(
            site_id="acme-bolton", customer="Acme Ltd, Bolton", run_id="run-1",
            kind="half_programmed", detail="the same run filed again", now=AT)
        other = register.record_engineer_action(
            site_id="acme-bolton", customer="Acme Ltd, Bolton", run_id="run-2",
            kind="half_programmed", detail="another run", now=AT)
        assert first == again  # filing the same run twice adds nothing
        assert (first.ref, other.ref) == ("EA-2026-000001", "EA-2026-000002")
        queued = register.outbox(ref=first.ref)
        assert sorted(m.channel for m in queued) == sorted(names())
        assert {m.event for m in queued} == {"engineer_action"}
        assert register.list_tickets() == []  # no customer fault, no SLA clock
    payload = queued[0].payload
    assert subject(payload) == ("[EA-2026-000001] ENGINEER ACTION: PBX MAY BE "
                                "HALF-PROGRAMMED — Acme Ltd, Bolton")
    body = email_body(payload)
    assert "extension_name 201" in body and "no SLA clock" in body and "run-1" in body
