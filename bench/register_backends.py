"""The register on SQLite vs PostgreSQL: occurrences per second under 4 writer processes.

The same race as ``register_bench`` (four spawned processes, each its own connection,
``Register.record_fault`` from a common barrier) run on both backends in the same run,
so the result is a ratio, not an absolute time. Two workloads: every call on one site and
fault (the most contended path — on PostgreSQL the site's advisory lock serialises them,
as SQLite's single writer does) and each writer on its own site (PostgreSQL's per-site
locks let them write at once; SQLite still has one writer). Every occurrence is counted
afterwards: none may be lost. The PostgreSQL server is a throw-away cluster started here
(tests.dbservers.running_postgres), built for speed like the tests' (``fsync=off``), so
the ratio compares the engines' locking and round trips, not the disks.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.tickets.register import Register
from bench.register_bench import NOW, classification, race

WRITERS = 4
EACH = 150
REPEATS = 3


def _writer(location: str, worker: int, spread: bool, barrier: Any, out: Any) -> None:
    from agent.tickets.sla import Contract

    try:
        contract, fault = Contract(name="standard"), classification()
        site = f"bench-site-{worker}" if spread else "bench-site"
        with Register(location) as register:
            barrier.wait()
            began = time.monotonic()
            for i in range(EACH):
                register.record_fault(site_id=site, customer="Bench Ltd", classification=fault,
                                      contract=contract, run_id=f"run-{worker}-{i}", now=NOW)
            out.put((began, time.monotonic()))
    except Exception as exc:  # the parent must hear about it, not wait for a timeout
        out.put(f"writer {worker}: {exc!r}")
        raise


def one_race(location: str, *, spread: bool) -> tuple[float, int]:
    """(occurrences per second, occurrences lost) on a fresh register at ``location``."""
    with Register(location):
        pass  # created and migrated before the race, as a deployed register would be
    began, ended = race(_writer, [(location, w, spread) for w in range(WRITERS)])
    with Register(location) as register:
        found = sum(t.occurrences for t in register.list_tickets())
    return WRITERS * EACH / (ended - began), WRITERS * EACH - found


def run() -> list[dict[str, object]]:
    from bench.__main__ import summarise
    from tests.dbservers import fresh_database, running_postgres

    folder = Path(tempfile.mkdtemp(prefix="pbxdiag-backends-"))
    rows: list[dict[str, object]] = []
    with running_postgres() as server:
        for spread, case in ((False, "one site, one ticket"), (True, "a site per writer")):
            rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
            lost = 0
            for index in range(REPEATS + 1):  # the first of each is a warm-up
                for backend in ("sqlite", "postgresql"):
                    location = (str(folder / f"r-{spread}-{index}.db") if backend == "sqlite"
                                else fresh_database(server, "bench"))
                    rate, missing = one_race(location, spread=spread)
                    if index:
                        rates[backend].append(rate)
                        lost += missing
            ratio = statistics.median(rates["postgresql"]) / statistics.median(rates["sqlite"])
            for backend, samples in rates.items():
                rows.append({"case": f"{backend}: {WRITERS} writer processes × {EACH}"
                                     f" record_fault, {case} ({lost} lost)",
                             **summarise(samples, "occurrences/s"),
                             "target": "none lost", "met": "yes" if lost == 0 else "NO"})
            rows.append({"case": f"PostgreSQL ÷ SQLite, {case}", "median": f"{ratio:.2f}×",
                         "spread": "", "target": "reported", "met": "yes" if lost == 0 else "NO"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
