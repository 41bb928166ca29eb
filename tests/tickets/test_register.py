"""The fault register on both backends (a SQLite file, a PostgreSQL database), with real
concurrent processes; the file-only facts (WAL, directories, user_version) on SQLite."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.errors import InputError
from agent.tickets.classify import FAULT_CLASSES, PRIORITY_TITLES, Classification
from agent.tickets.register import SCHEMA_VERSION, Register, Ticket, TicketNotFound
from agent.tickets.sla import Contract, deadlines

from .conftest import raw_write

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CONTRACT = Contract(name="standard")
REF = re.compile(r"^FR-\d{4}-\d{6}$")


def classification(priority: str = "P3", signature: str = "sig-a", *, rule: str = "failed-check",
                   non_covered: str | None = None) -> Classification:
    return Classification(
        priority=priority,  # type: ignore[arg-type]
        title=PRIORITY_TITLES.get(priority, "?"),  # type: ignore[call-overload]
        fault_class=FAULT_CLASSES.get(priority, "?"),  # type: ignore[call-overload]
        rule=rule, summary=f"{rule} summary", evidence=("CO 01–08 fault (cab 1 slot 03)",),
        signature=signature, non_covered=non_covered, fired=(rule,))


def fault(reg: Register, *, site: str = "acme-bolton", c: Classification | None = None,
          run_id: str = "run-1", now: datetime = NOW) -> Any:
    return reg.record_fault(site_id=site, customer="Acme Ltd", classification=c or classification(),
                            contract=CONTRACT, run_id=run_id, now=now)


def close_ticket(path: Path | str, ref: str) -> None:
    """Closing by hand in SQL (a state no move of the code reaches this directly)."""
    with raw_write(path) as conn:
        conn.execute("UPDATE tickets SET state = 'closed' WHERE ref = ?", (ref,))


# --- opening the file ----------------------------------------------------------------


def test_open_creates_directories_wal_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "register.db"
    with Register(path) as register:
        assert register.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
    with Register(path) as again:  # reopening migrates nothing and loses nothing
        assert again.list_tickets() == []


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "register.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(InputError, match="newer"):
        Register(path).open()


def test_closed_register_refuses_work(db: Path | str) -> None:
    register = Register(db)
    with pytest.raises(RuntimeError, match="not open"):
        register.list_tickets()


# --- record_fault --------------------------------------------------------------------


def test_first_fault_opens_a_logged_ticket(reg: Register) -> None:
    c = classification("P1", rule="processor-down", non_covered="possible non-covered cause: x")
    outcome = fault(reg, c=c)
    t = outcome.ticket
    assert outcome.opened and not outcome.upgraded
    assert REF.match(t.ref) and t.ref == "FR-2026-000001"
    assert (t.state, t.priority, t.title, t.fault_class, t.rule) == (
        "logged", "P1", "Total System Failure", "Major", "processor-down")
    assert (t.site_id, t.customer, t.signature) == ("acme-bolton", "Acme Ltd", "sig-a")
    assert t.evidence == ("CO 01–08 fault (cab 1 slot 03)",)
    assert t.non_covered == "possible non-covered cause: x"
    assert (t.opened_at, t.first_seen, t.last_seen, t.occurrences, t.last_run_id) == (
        NOW, NOW, NOW, 1, "run-1")
    due = deadlines("P1", NOW, CONTRACT)
    assert (t.response_due, t.parts_due, t.escalations) == (due.response, due.parts,
                                                           due.escalations)
    assert t.contract == "standard"
    assert t.calendar == "Mon–Fri 09:00–17:30 Europe/London, England bank holidays"
    assert reg.get(t.ref) == t
    assert [a.action for a in reg.audit(t.ref)] == ["opened", "non_covered_noted"]
    assert [(o.kind, o.priority, o.run_id) for o in reg.occurrences(t.ref)] == [
        ("fault", "P1", "run-1")]


def test_same_fault_again_adds_an_occurrence(reg: Register) -> None:
    first = fault(reg).ticket
    later = NOW + timedelta(days=1)
    outcome = fault(reg, run_id="run-2", now=later)
    assert not outcome.opened and not outcome.upgraded
    t = outcome.ticket
    assert t.ref == first.ref
    assert (t.occurrences, t.first_seen, t.last_seen, t.last_run_id) == (2, NOW, later, "run-2")
    assert [o.run_id for o in reg.occurrences(t.ref)] == ["run-1", "run-2"]
    assert [a.action for a in reg.audit(t.ref)] == ["opened"]
    assert len(reg.list_tickets()) == 1


def test_recording_the_same_run_twice_changes_nothing(reg: Register) -> None:
    first = fault(reg).ticket
    again = fault(reg)
    assert not again.opened
    assert again.ticket == first
    assert len(reg.occurrences(first.ref)) == 1


def test_other_site_or_other_signature_opens_another_ticket(reg: Register) -> None:
    a = fault(reg).ticket
    b = fault(reg, site="acme-leeds").ticket
    c = fault(reg, c=classification(signature="sig-b")).ticket
    assert [a.ref, b.ref, c.ref] == ["FR-2026-000001", "FR-2026-000002", "FR-2026-000003"]


def test_worse_priority_upgrades_and_is_audited(reg: Register) -> None:
    minor = fault(reg, c=classification("P3")).ticket
    later = NOW + timedelta(hours=1)
    outcome = fault(reg, c=classification("P1", rule="extension-cards-down"), run_id="run-2",
                    now=later)
    t = outcome.ticket
    assert outcome.upgraded and not outcome.opened
    assert (t.ref, t.priority, t.title, t.fault_class, t.rule) == (
        minor.ref, "P1", "Total System Failure", "Major", "extension-cards-down")
    assert t.response_due == min(minor.response_due, deadlines("P1", later, CONTRACT).response)
    assert t.parts_due == deadlines("P1", later, CONTRACT).parts
    assert t.escalations == minor.escalations  # unresolved since it was first logged
    audit = reg.audit(t.ref)
    assert [a.action for a in audit] == ["opened", "priority_upgraded"]
    assert audit[1].detail.startswith("P3 -> P1 (extension-cards-down)")
    assert [o.priority for o in reg.occurrences(t.ref)] == ["P3", "P1"]


def test_better_priority_does_not_downgrade(reg: Register) -> None:
    major = fault(reg, c=classification("P1")).ticket
    outcome = fault(reg, c=classification("P3"), run_id="run-2")
    assert not outcome.upgraded
    assert outcome.ticket.priority == "P1"
    assert outcome.ticket.response_due == major.response_due
    assert [a.action for a in reg.audit(major.ref)] == ["opened"]


def test_power_failure_seen_later_is_noted(reg: Register) -> None:
    ref = fault(reg).ticket.ref
    t = fault(reg, c=classification(non_covered="possible non-covered cause: AC power down"),
              run_id="run-2").ticket
    assert t.non_covered == "possible non-covered cause: AC power down"
    assert [a.action for a in reg.audit(ref)] == ["opened", "non_covered_noted"]


def test_closed_ticket_does_not_absorb_a_recurrence(db: Path | str) -> None:
    path = db
    with Register(path) as register:
        old = fault(register).ticket
    close_ticket(path, old.ref)
    with Register(path) as register:
        new = fault(register, run_id="run-2")
        assert new.opened and new.ticket.ref != old.ref
        assert [t.ref for t in register.list_tickets(open_only=True)] == [new.ticket.ref]
        assert register.record_all_clear(site_id="acme-bolton", run_id="run-3", now=NOW) == [
            new.ticket]


def test_failed_write_rolls_back_and_reuses_no_reference(reg: Register) -> None:
    with pytest.raises(ValueError, match="priority"):
        fault(reg, c=classification("P9"))
    assert reg.list_tickets() == []
    assert fault(reg).ticket.ref == "FR-2026-000001"


def test_naive_time_is_refused(reg: Register) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        fault(reg, now=datetime(2026, 11, 27, 9, 0))


def test_references_count_per_year(reg: Register) -> None:
    fault(reg, c=classification(signature="a"))
    fault(reg, c=classification(signature="b"))
    new_year = fault(reg, c=classification(signature="c"), now=datetime(2027, 1, 1, tzinfo=UTC))
    assert [t.ref for t in reg.list_tickets()] == [
        "FR-2026-000001", "FR-2026-000002", "FR-2027-000001"]
    assert new_year.ticket.ref == "FR-2027-000001"


# --- all clear, listing, lookups -----------------------------------------------------


def test_all_clear_is_recorded_on_open_tickets_without_changing_them(reg: Register) -> None:
    a = fault(reg, c=classification(signature="a")).ticket
    b = fault(reg, c=classification(signature="b")).ticket
    other = fault(reg, site="acme-leeds").ticket
    later = NOW + timedelta(hours=2)
    cleared = reg.record_all_clear(site_id="acme-bolton", run_id="run-9", now=later)
    assert cleared == [a, b]
    assert reg.get(a.ref) == a  # no state change: closing is a human decision
    assert [(o.kind, o.priority, o.seen_at) for o in reg.occurrences(a.ref)] == [
        ("fault", "P3", NOW), ("all_clear", None, later)]
    assert len(reg.occurrences(other.ref)) == 1
    reg.record_all_clear(site_id="acme-bolton", run_id="run-9", now=later)  # retried
    assert len(reg.occurrences(a.ref)) == 2


def test_list_tickets_filters(db: Path | str) -> None:
    path = db
    with Register(path) as register:
        a = fault(register, c=classification(signature="a")).ticket
        b = fault(register, c=classification(signature="b")).ticket
        c = fault(register, site="acme-leeds").ticket
    close_ticket(path, a.ref)
    with Register(path) as register:
        def refs(tickets: list[Ticket]) -> list[str]:
            return [t.ref for t in tickets]

        assert refs(register.list_tickets()) == [a.ref, b.ref, c.ref]
        assert refs(register.list_tickets(open_only=True)) == [b.ref, c.ref]
        assert refs(register.list_tickets(site_id="acme-bolton")) == [a.ref, b.ref]
        assert refs(register.list_tickets(open_only=True, site_id="acme-bolton")) == [b.ref]
        assert not register.get(a.ref).is_open


@pytest.mark.parametrize("lookup", ["get", "occurrences", "audit"])
def test_unknown_reference(reg: Register, lookup: str) -> None:
    with pytest.raises(TicketNotFound) as caught:
        getattr(reg, lookup)("FR-2026-999999")
    assert isinstance(caught.value, InputError)
    assert caught.value.ref == "FR-2026-999999"


# --- concurrency ---------------------------------------------------------------------


def _open_many(path: str, worker: int, count: int, shared_signature: bool,
               barrier: Any, out: Any) -> None:
    """A separate process: its own connection, racing the others from a common start."""
    barrier.wait()
    refs: list[str] = []
    try:
        with Register(path) as register:
            for i in range(count):
                signature = "same" if shared_signature else f"sig-{worker}-{i}"
                outcome = register.record_fault(
                    site_id="acme-bolton", customer="Acme Ltd",
                    classification=classification(signature=signature), contract=CONTRACT,
                    run_id=f"run-{worker}-{i}", now=NOW)
                refs.append(outcome.ticket.ref)
    except Exception as exc:  # the parent must hear about it, not wait for a timeout
        out.put(f"worker {worker}: {exc!r}")
        raise
    out.put(refs)


def _race(path: Path | str, *, processes: int, each: int, shared_signature: bool) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_open_many,
                           args=(str(path), w, each, shared_signature, barrier, out))
               for w in range(processes)]
    for w in workers:
        w.start()
    answers = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=120)
    assert [a for a in answers if isinstance(a, str)] == []
    assert [w.exitcode for w in workers] == [0] * processes
    return [ref for refs in answers for ref in refs]


def test_processes_opening_at_once_get_distinct_references(db: Path | str) -> None:
    # the schema migration races too (a fresh SQLite directory, an empty database)
    path = db.parent / "fresh" / "register.db" if isinstance(db, Path) else db
    refs = _race(path, processes=4, each=25, shared_signature=False)
    assert len(refs) == len(set(refs)) == 100
    assert sorted(refs) == [f"FR-2026-{n:06d}" for n in range(1, 101)]
    with Register(path) as register:
        assert len(register.list_tickets()) == 100


def test_processes_reporting_one_fault_share_one_ticket(db: Path | str) -> None:
    path = db
    refs = _race(path, processes=4, each=10, shared_signature=True)
    assert set(refs) == {"FR-2026-000001"}
    with Register(path) as register:
        (ticket,) = register.list_tickets()
        assert ticket.occurrences == 40
        assert len(register.occurrences(ticket.ref)) == 40


def test_threads_sharing_one_register(reg: Register) -> None:
    tickets: list[Ticket] = []

    def work(worker: int) -> None:
        for i in range(10):
            c = classification(signature=f"t-{worker}-{i}")
            tickets.append(fault(reg, c=c, run_id=f"t-{worker}-{i}").ticket)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({t.ref for t in tickets}) == 80
