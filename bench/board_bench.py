"""The board's server time for its first page of 10,000 open tickets, as a ratio.

The baseline is the register query the board cannot avoid — open the register and list
the open tickets — measured in the same run on the same file. The board's cost is one
``GET /`` (and one ``GET /api/tickets``) through the real ASGI app in process (Starlette's
TestClient, logged in): session check, the query, the SLA ordering of every ticket,
rendering the first 100 rows. Target: ≤ 3× the query alone.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.tickets.classify import FAULT_CLASSES, PRIORITY_TITLES, Classification
from agent.tickets.register import Register
from agent.tickets.sla import Contract

TICKETS = 10_000
REPEATS = 7
TARGET = 3.0
PASSWORD = "bench-password-1"


def _seed(db: Path) -> None:
    contract = Contract(name="standard")
    start = datetime.now(UTC) - timedelta(days=30)
    with Register(db) as register:
        for i in range(TICKETS):
            priority = ("P1", "P2", "P3")[i % 3]
            c = Classification(priority=priority, title=PRIORITY_TITLES[priority],
                               fault_class=FAULT_CLASSES[priority], rule="failed-check",
                               summary="A CO line is out of service",
                               evidence=("CO 01–08 fault (cab 1 slot 03)",),
                               signature=f"sig-{i}", fired=("failed-check",))
            register.record_fault(site_id=f"site-{i:05d}", customer=f"Customer {i}",
                                  classification=c, contract=contract, run_id=f"run-{i}",
                                  now=start + timedelta(minutes=4 * i))


def _median(work: Callable[[], object]) -> tuple[float, list[float]]:
    work()  # warm-up
    samples = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        work()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), samples


def run() -> list[dict[str, object]]:
    from starlette.testclient import TestClient

    from agent.board import users
    from agent.board.app import BoardConfig, build_app
    from bench.__main__ import summarise

    folder = Path(tempfile.mkdtemp(prefix="pbxdiag-board-"))
    db, users_file = folder / "tickets.db", folder / "users.yaml"
    _seed(db)
    users.save(users_file, users.add_user(users.UserFile(), "bench", "desk", PASSWORD))

    def query() -> object:
        with Register(db) as register:
            return register.list_tickets(open_only=True)

    client = TestClient(build_app(BoardConfig(db=db, users=users_file)))
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    client.post("/login", data={"csrf": csrf.group(1), "name": "bench",
                                "password": PASSWORD}, follow_redirects=False)

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(path)
            assert response.status_code == 200, response.status_code
            return response
        return call

    base, base_samples = _median(query)
    rows: list[dict[str, object]] = [{
        "case": f"register query alone: list_tickets(open_only) of {TICKETS:,}",
        **summarise(base_samples, "ms", 1000), "ratio": "1.00×"}]
    for case, path in (("board first page (GET /, 100 rows)", "/"),
                       ("JSON list first page (GET /api/tickets)", "/api/tickets")):
        median, samples = _median(get(path))
        ratio = median / base
        rows.append({"case": f"{case} of {TICKETS:,} open", **summarise(samples, "ms", 1000),
                     "ratio": f"{ratio:.2f}×", "target": f"≤ {TARGET:.0f}×",
                     "met": "yes" if ratio <= TARGET else "NO"})
    return rows
