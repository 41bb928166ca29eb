"""Shared helpers for the register tests: real SQLite files in tmp_path, nothing mocked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.tickets.classify import FAULT_CLASSES, PRIORITY_TITLES, Classification
from agent.tickets.model import Outcome, RunDetails
from agent.tickets.register import Register
from agent.tickets.sla import Contract

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday, 09:00 GMT
CONTRACT = Contract(name="standard")


def classification(priority: str = "P3", signature: str = "sig-a", *,
                   rule: str = "failed-check", non_covered: str | None = None,
                   component: tuple[str, ...] = ("system",)) -> Classification:
    return Classification(
        priority=priority,  # type: ignore[arg-type]
        title=PRIORITY_TITLES.get(priority, "?"),  # type: ignore[call-overload]
        fault_class=FAULT_CLASSES.get(priority, "?"),  # type: ignore[call-overload]
        rule=rule, summary=f"{rule} summary", evidence=("CO 01–08 fault (cab 1 slot 03)",),
        signature=signature, non_covered=non_covered, fired=(rule,), component=component)


def record(reg: Register, *, site: str = "acme-bolton", c: Classification | None = None,
           run_id: str = "run-1", now: datetime = NOW, run: RunDetails | None = None,
           contract: Contract = CONTRACT) -> Outcome:
    return reg.record_fault(site_id=site, customer="Acme Ltd, Bolton",
                            classification=c or classification(), contract=contract,
                            run_id=run_id, now=now, run=run)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "register.db"


@pytest.fixture
def reg(db: Path) -> Iterator[Register]:
    with Register(db) as register:
        yield register


def events(reg: Register, ref: str) -> list[str]:
    """The notifications queued for a ticket, one per event (the e-mail rows)."""
    return [m.event for m in reg.outbox(ref=ref, channel="email")]


def payload_of(reg: Register, ref: str, event: str) -> dict[str, Any]:
    (message,) = [m for m in reg.outbox(ref=ref, channel="email") if m.event == event]
    return message.payload
