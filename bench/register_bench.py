"""Ticket register under concurrent writers: occurrences per second, and no lost writes.

Four writer processes (``multiprocessing``, spawn: each its own interpreter and SQLite
connection, as a fleet's workers on one host would be) race from a common barrier to
record faults with the real ``Register.record_fault``, every call on the same site and
fault signature, so every call after the first adds an occurrence to one open ticket
(the most contended path: one row, one ticket, many writers). At the end the
occurrences are counted: every call must be there exactly once.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.tickets.classify import FAULT_CLASSES, PRIORITY_TITLES, Classification
from agent.tickets.register import Register
from agent.tickets.sla import Contract

WRITERS = 4
EACH = 250
REPEATS = 5
TARGET = 500.0
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def classification() -> Classification:
    return Classification(priority="P3", title=PRIORITY_TITLES["P3"],
                          fault_class=FAULT_CLASSES["P3"], rule="failed-check",
                          summary="A CO line is out of service",
                          evidence=("CO 01–08 fault (cab 1 slot 03)",), signature="bench-sig",
                          fired=("failed-check",))


def _writer(path: str, worker: int, each: int, barrier: Any, out: Any) -> None:
    try:
        contract, fault = Contract(name="standard"), classification()
        with Register(Path(path)) as register:
            barrier.wait()
            began = time.monotonic()
            for i in range(each):
                register.record_fault(site_id="bench-site", customer="Bench Ltd",
                                      classification=fault, contract=contract,
                                      run_id=f"run-{worker}-{i}", now=NOW)
            out.put((began, time.monotonic()))
    except Exception as exc:  # the parent must hear about it, not wait for a timeout
        out.put(f"writer {worker}: {exc!r}")
        raise


def race(writer: Callable[..., None], args: list[tuple[Any, ...]]) -> tuple[float, float]:
    """Start one spawned process per ``args`` at once (a barrier), each calling
    ``writer(*args, barrier, out)`` and putting (began, ended) or an error text on ``out``;
    the first start and the last end, over all of them."""
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(len(args)), ctx.Queue()
    workers = [ctx.Process(target=writer, args=(*given, barrier, out)) for given in args]
    for worker in workers:
        worker.start()
    answers = [out.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    errors = [a for a in answers if isinstance(a, str)]
    if errors:
        raise RuntimeError("; ".join(errors))
    return min(a[0] for a in answers), max(a[1] for a in answers)


def one_race(folder: Path, index: int) -> tuple[float, int]:
    """(occurrences per second, occurrences found) for one race on a fresh register."""
    path = folder / f"register-{index}.db"
    with Register(path):
        pass  # created and migrated before the race, as a deployed register would be
    began, ended = race(_writer, [(str(path), w, EACH) for w in range(WRITERS)])
    with closing(sqlite3.connect(path)) as db:  # counted independently of the register
        found = int(db.execute("SELECT count(*) FROM occurrences WHERE kind = 'fault'")
                    .fetchone()[0])
    return WRITERS * EACH / (ended - began), found


def run() -> list[dict[str, object]]:
    from bench.__main__ import summarise

    folder = Path(tempfile.mkdtemp(prefix="pbxdiag-register-"))
    one_race(folder, 0)  # warm-up
    rates: list[float] = []
    lost = 0
    for index in range(1, REPEATS + 1):
        rate, found = one_race(folder, index)
        rates.append(rate)
        lost += WRITERS * EACH - found
    median = statistics.median(rates)
    met = median >= TARGET and lost == 0
    return [{"case": f"{WRITERS} writer processes × {EACH} record_fault, one ticket "
                     f"(occurrences counted after: {lost} lost)",
             **summarise(rates, "occurrences/s"), "target": f"≥ {TARGET:,.0f}/s, none lost",
             "met": "yes" if met else "NO"}]
