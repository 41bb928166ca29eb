"""A real register, a real users file (made with the CLI) and ``pbxdiag serve`` on a
loopback port in a subprocess, shared by the board's HTTP and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from agent.maintenance import LONDON
from agent.tickets.classify import FAULT_CLASSES, PRIORITY_TITLES, Classification
from agent.tickets.register import Register
from agent.tickets.sla import Contract

PASSWORDS = {"dora": "desk-pass-0001", "erin": "engineer-pass-02", "adam": "admin-pass-0003",
             "victim": "victim-pass-0004"}
ROLES = {"dora": "desk", "erin": "engineer", "adam": "admin", "victim": "desk"}
XSS = "<script>alert(1)</script>"
#: Opened on a Friday at 17:25 BST (five minutes before the working day ends) …
FRIDAY_1725 = datetime(2026, 4, 24, 16, 25, tzinfo=UTC)
#: … and on the summer bank holiday in England (Monday 31 August 2026).
BANK_HOLIDAY = datetime(2026, 8, 31, 10, 0, tzinfo=UTC)
CONTRACT = Contract(name="standard")
GOLD = Contract(name="gold", minor_response_working_hours=4)
SECRET = "inv-Secret-4471"
INVENTORY = """\
sites:
  acme-leeds:
    customer: Acme Ltd
    vendor: panasonic
    paths: ["ssh://INSTALLERX@127.0.0.1:2222"]
    credentials: {{username: INSTALLERX, password_file: leeds.pw}}
    maintenance:
      - {{from: "{start}", until: "{end}", reason: "swapping the <b>EXT</b> card"}}
"""


def classification(priority: str, signature: str, *, evidence: tuple[str, ...],
                   summary: str) -> Classification:
    return Classification(
        priority=priority,  # type: ignore[arg-type]
        title=PRIORITY_TITLES[priority],  # type: ignore[index]
        fault_class=FAULT_CLASSES[priority],  # type: ignore[index]
        rule="failed-check", summary=summary, evidence=evidence, signature=signature,
        fired=("failed-check",), component=(signature,))


@dataclass
class Seeded:
    friday: str  # ref of the P3 opened Friday 17:25
    holiday: str  # ref of the P3 opened on the bank holiday
    xss: str  # ref whose evidence holds a <script>
    recent: str  # a P1 opened an hour ago (response due in 3 h)
    gold: str  # a P3 on the gold contract, opened 10 minutes ago


def seed(db: Path, now: datetime) -> Seeded:
    refs = []
    with Register(db) as reg:
        for site, priority, sig, at, evidence, contract in (
            ("acme-bolton", "P3", "card-03", FRIDAY_1725, ("card 03 out of service",),
             CONTRACT),
            ("bolt-mill", "P3", "co-all", BANK_HOLIDAY, ("no CO line in service",),
             CONTRACT),
            ("xss-site", "P3", "log", FRIDAY_1725 - timedelta(days=7),
             (f"error log: {XSS}", "<b>bold</b> & co"), CONTRACT),
            ("acme-leeds", "P1", "ext-all", now - timedelta(hours=1),
             ("no extension answers",), CONTRACT),
            ("gold-site", "P3", "trunk-2", now - timedelta(minutes=10),
             ("CO 02 out of service",), GOLD),
        ):
            outcome = reg.record_fault(
                site_id=site, customer=f"{site} customer <Ltd>",
                classification=classification(priority, sig, evidence=evidence,
                                              summary=f"{sig} fault"),
                contract=contract, run_id=f"run-{site}", now=at, playbook="health-check")
            refs.append(outcome.ticket.ref)
    return Seeded(*refs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pbxdiag(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], input=stdin, text=True,
                          check=False,
                          capture_output=True, timeout=60, env=env or dict(os.environ))


@dataclass
class Server:
    url: str
    db: Path
    users: Path
    workdir: Path
    seeded: Seeded
    process: subprocess.Popen[str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, follow_redirects=False)

    @contextmanager
    def login(self, name: str) -> Iterator[httpx.Client]:
        with self.client() as client:
            page = client.get("/login")
            csrf = csrf_of(page.text)
            response = client.post("/login", data={"csrf": csrf, "name": name,
                                                   "password": PASSWORDS[name]})
            assert response.status_code == 303, response.text
            yield client


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def write_inventory(workdir: Path, now: datetime) -> Path:
    """An inventory with a window on acme-leeds now, and a password the board must hide."""
    (workdir / "leeds.pw").write_text(SECRET + "\n")
    (workdir / "leeds.pw").chmod(0o600)
    london = now.astimezone(LONDON)
    path = workdir / "inventory.yaml"
    path.write_text(INVENTORY.format(
        start=(london - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        end=(london + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")))
    return path


def start_server(workdir: Path, db: Path, users: Path, *extra: str,
                 ) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--db", str(db), "--users", str(users), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir)
    scheme = "https" if "--certfile" in extra else "http"
    url = f"{scheme}://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pbxdiag serve exited: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return url, process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("pbxdiag serve did not listen within 30 s")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("board")
    db, users = workdir / "tickets.db", workdir / "users.yaml"
    now = datetime.now(UTC)
    seeded = seed(db, now)
    inventory = write_inventory(workdir, now)
    for name, role in ROLES.items():
        done = pbxdiag("users", "add", name, "--role", role, "--password-stdin",
                       "--users", str(users), stdin=PASSWORDS[name] + "\n")
        assert done.returncode == 0, done.stderr
    url, process = start_server(workdir, db, users, "--inventory", str(inventory),
                                "--data", str(workdir / "data"),
                                "--log-file", str(workdir / "board.log"))
    try:
        yield Server(url=url, db=db, users=users, workdir=workdir, seeded=seeded,
                     process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
