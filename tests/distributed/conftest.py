"""A Celery fleet for real: simulated sites in a process of their own, ``pbxdiag worker``
subprocesses, the session's redis-server, a register shared by the workers.

The register is one parameter (``Fleet.db``): a SQLite file here; the same tests run
against PostgreSQL by giving a ``postgresql://`` URL instead.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.dbservers import PostgresServer, RedisServer, fresh_database

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "celery-Fleet-Secret-4417"
PASSWORD_VARIABLE = "PBXDIAG_CELERY_PASSWORD"
#: Small deadlines so a lost job is redelivered in seconds: visibility = limit + 10 s.
JOB_TIME_LIMIT = "15"
SITE = """\
  site-{index:03d}:
    customer: Customer {index}
    vendor: panasonic
    paths: {paths}
    known_hosts: known_hosts
    timeout: 5
    reach_timeout: 8
    credentials: {{username: INSTALLER, password_env: {variable}}}
"""


def faulty(index: int) -> bool:
    return index % 10 == 0  # bench/fleet_sims.py: every tenth PBX has a dead trunk card


@dataclass
class Fleet:
    """The folder of one fleet: inventory, register, data dir, and the workers started."""

    folder: Path
    broker: str
    ports: list[int]
    #: The emulated modem bank ({device, status}) and the numbers its phone book reaches.
    modems: list[dict[str, str]] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def inventory(self) -> Path:
        return self.folder / "inventory.yaml"

    #: The register the workers share: a SQLite file in the folder unless a URL is given.
    register: str = ""

    @property
    def db(self) -> str:
        return self.register or str(self.folder / "tickets.db")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of the shared register, read straight from its database (either kind)."""
        if self.db.startswith("postgresql://"):
            import psycopg

            with psycopg.connect(self.db, connect_timeout=10) as conn:
                return [tuple(row) for row in conn.execute(sql).fetchall()]
        if not Path(self.db).exists():
            return []
        with sqlite3.connect(self.db) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]

    @property
    def output(self) -> Path:
        return self.folder / "out"

    @property
    def hold_log(self) -> Path:
        return self.output / "locks" / "holds.jsonl"

    def write_inventory(self, paths: dict[int, list[dict[str, str]]]) -> None:
        """``paths``: each site's paths as {url, pool} mappings."""
        body = "".join(SITE.format(index=i, paths=json.dumps(p), variable=PASSWORD_VARIABLE)
                       for i, p in sorted(paths.items()))
        self.inventory.write_text("sites:\n" + body)

    def env(self) -> dict[str, str]:
        return {**os.environ, PASSWORD_VARIABLE: PASSWORD,
                "XDG_DATA_HOME": str(self.folder / "xdg")}

    def start_worker(self, name: str, *pools: str, concurrency: int = 2
                     ) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "agent.cli", "worker", "--broker", self.broker,
                "--inventory", str(self.inventory), "--db", self.db, "--output",
                str(self.output), "--concurrency", str(concurrency), "--name", name,
                "--job-time-limit", JOB_TIME_LIMIT]
        for pool in pools:
            args += ["--pool", pool]
        log = (self.folder / f"worker-{name}.log").open("wb")
        worker = subprocess.Popen(args, env=self.env(), cwd=REPO, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)  # its own group: killpg kills all
        log.close()
        self.workers.append(worker)
        return worker

    def pbxdiag(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=self.env(),
                              cwd=REPO, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def fleet_args(self, *extra: str) -> list[str]:
        return ["fleet", "health-check", "--executor", "celery", "--broker", self.broker,
                "--inventory", str(self.inventory), "--db", self.db, "--output",
                str(self.output), "--json", *extra]

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


#: The simulated fleet (tests/distributed/sims.py): PBXs on SSH, and PBXs dialled through
#: a bank of emulated modems sharing one phone book.
SSH_SITES, MODEM_SITES, MODEMS = 24, 16, 2


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The simulated sites (every tenth with a dead trunk card), in their own process."""
    folder = tmp_path / "fleet"
    folder.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "tests.distributed.sims", str(SSH_SITES),
                                str(MODEM_SITES), str(MODEMS), str(folder), PASSWORD],
                               cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        served: dict[str, Any] = json.loads(process.stdout.readline())
        (folder / "known_hosts").write_text("\n".join(served["known_hosts"]) + "\n")
        yield {**served, "folder": folder}
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=60)


@pytest.fixture
def fleet(sims: dict[str, Any], redis_server: RedisServer) -> Iterator[Fleet]:
    broker = redis_server.url(1)
    redis.Redis.from_url(broker).flushdb()  # no message of an earlier test is left
    made = Fleet(folder=sims["folder"], broker=broker, ports=sims["ports"],
                 modems=sims["modems"], numbers=sims["numbers"])
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def pg_fleet(fleet: Fleet, postgres_server: PostgresServer) -> Fleet:
    """The same fleet with its register on the session's PostgreSQL (a database of its own):
    the register, and the line locks the workers take in it, are one authority."""
    fleet.register = fresh_database(postgres_server, prefix="fleet")
    return fleet
