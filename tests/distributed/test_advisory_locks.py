"""The line locks of workers whose register is PostgreSQL: advisory locks on the real server.

One authority for every host: a line held by one worker is refused to another until it is
let go, and a worker killed while holding one frees it (its connection dies with it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from agent.distributed.locks import AdvisoryLocks
from agent.sitelock import LineInUse
from agent.tickets.storage.location import PostgresUrl
from tests.dbservers import PostgresServer, fresh_database
from tests.distributed.conftest import REPO

HOLDER = """
import sys
from agent.distributed.locks import AdvisoryLocks
from agent.tickets.storage.location import PostgresUrl
with AdvisoryLocks(PostgresUrl(sys.argv[1])).hold("modem:/dev/ttyS0", wait=10):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def url(postgres_server: PostgresServer) -> PostgresUrl:
    return PostgresUrl(fresh_database(postgres_server, prefix="locks"))


def test_a_held_line_is_refused_to_another_worker_until_let_go(url: PostgresUrl) -> None:
    first, second = AdvisoryLocks(url), AdvisoryLocks(url)
    with first.hold("modem:/dev/ttyS0", wait=1):
        with pytest.raises(LineInUse, match="modem:/dev/ttyS0"), \
                second.hold("modem:/dev/ttyS0", wait=0.2):
            pass
        with second.hold("modem:/dev/ttyS1", wait=0.2):  # another line is free
            pass
    with second.hold("modem:/dev/ttyS0", wait=0.2):
        pass


def test_a_waiting_worker_gets_the_line_when_its_holder_lets_go(url: PostgresUrl) -> None:
    holder, waiter = AdvisoryLocks(url), AdvisoryLocks(url)
    held, got = threading.Event(), threading.Event()
    release = threading.Event()

    def hold() -> None:
        with holder.hold("site:acme", wait=1):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(30)
    release.set()  # let go while the waiter is waiting in the server
    with waiter.hold("site:acme", wait=30):
        got.set()
    thread.join(30)
    assert got.is_set()


def test_a_killed_worker_frees_its_line(url: PostgresUrl) -> None:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, url.dsn], cwd=REPO,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        with pytest.raises(LineInUse), AdvisoryLocks(url).hold("modem:/dev/ttyS0", wait=0.2):
            pass
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        with AdvisoryLocks(url).hold("modem:/dev/ttyS0", wait=30):
            pass
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
