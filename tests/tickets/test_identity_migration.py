"""Schema v4: open tickets of an older register get fault identities from their stored
evidence; those whose evidence does not say which component keep theirs, and say so."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from agent.tickets.register import Register
from agent.tickets.schema import (
    SCHEMA_VERSION,
    v1_initial,
    v2_lifecycle_escalations_outbox,
    v3_derived_counts_any_channel,
)

from .conftest import NOW, classification, record

H = timedelta(hours=1)


def _v3_register(db: Path, tickets: list[tuple[str, str, str, str]]) -> None:
    conn = sqlite3.connect(db)
    for migration in (v1_initial, v2_lifecycle_escalations_outbox):
        migration(conn)
    for ref, signature, rule, evidence in tickets:
        conn.execute(
            "INSERT INTO tickets (ref, site_id, customer, signature, priority, title,"
            " fault_class, rule, summary, evidence, non_covered, state, opened_at,"
            " response_due, parts_due, escalations, contract, calendar, first_seen,"
            " last_seen, occurrences, last_run_id) VALUES (?, 'acme-bolton', 'Acme Ltd', ?,"
            " 'P3', 'Inconvenience', 'Minor', ?, 's', ?, NULL, 'logged', ?, ?, NULL, '[]',"
            " 'standard', 'cal', ?, ?, 1, 'run-1')",
            (ref, signature, rule, evidence, NOW.isoformat(), (NOW + 4 * H).isoformat(),
             NOW.isoformat(), NOW.isoformat()))
    v3_derived_counts_any_channel(conn)
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()


def test_open_tickets_get_identities_from_their_evidence(tmp_path: Path) -> None:
    db = tmp_path / "tickets.db"
    _v3_register(db, [
        ("FR-2026-000001", "sig-1111", "extension-card-down",
         '["DLC16 fault (cab 1 slot 01)", "EXT 201\\u2013216 fault (cab 1 slot 01)"]'),
        ("FR-2026-000002", "sig-2222", "hint:My check", '["check \'My check\' failed"]'),
    ])
    with Register(db) as register:
        assert register.schema_version == SCHEMA_VERSION
        card = register.get("FR-2026-000001")
        kept = register.get("FR-2026-000002")
        assert card.signature == "component:extensions/cab 1 slot 01"
        assert kept.signature == "sig-2222"
        assert "identity recomputed" in register.audit("FR-2026-000001")[-1].detail
        assert "could not be recomputed" in register.audit("FR-2026-000002")[-1].detail
        # the migrated ticket now collects the same fault however it is found
        again = record(register, c=classification(
            "P3", signature="component:extensions/cab 1 slot 01",
            component=("extensions", "cab 1 slot 01")), run_id="run-2", now=NOW + H)
        assert not again.opened and again.ticket.ref == "FR-2026-000001"
