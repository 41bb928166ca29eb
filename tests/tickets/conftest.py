"""Shared helpers for the register tests: real databases, nothing mocked.

``db`` (and ``reg`` over it) is parametrised over both backends: a SQLite file in
tmp_path, and a fresh database on the session's real PostgreSQL server (tests/dbservers.py).
A test that is inherently SQLite's (the file, WAL, old files upgrading) asks for
``sqlite_db`` instead. Spawned processes are given ``str(db)``: a path or the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.tickets.classify import FAULT_CLASSES, PRIORITY_TITLES, Classification
from agent.tickets.model import Outcome, RunDetails
from agent.tickets.register import Register
from agent.tickets.sla import Contract
from agent.tickets.storage.backends import store_for
from agent.tickets.storage.dialect import Db
from tests.dbservers import fresh_database

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


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A register location: a SQLite path, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "register.db"
    server = request.getfixturevalue("postgres_server")
    return fresh_database(server)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    return tmp_path / "register.db"


@pytest.fixture
def reg(db: Path | str) -> Iterator[Register]:
    with Register(db) as register:
        yield register


@contextmanager
def raw_write(db: Path | str) -> Iterator[Db]:
    """One transaction on the register's own connection, for a test that writes what the
    code never would (a second open ticket, a row by hand), on either backend."""
    store = store_for(db)
    store.open()
    try:
        with store.write() as conn:
            yield conn
    finally:
        store.close()


def events(reg: Register, ref: str) -> list[str]:
    """The notifications queued for a ticket, one per event (the e-mail rows)."""
    return [m.event for m in reg.outbox(ref=ref, channel="email")]


def payload_of(reg: Register, ref: str, event: str) -> dict[str, Any]:
    (message,) = [m for m in reg.outbox(ref=ref, channel="email") if m.event == event]
    return message.payload
