"""One contract, both vendors, every line: a connected driver for (vendor, scenario, line).

The suite asks for a *situation* ("healthy", "one-trunk-dead"…) and receives a driver that
reached the matching simulated PBX over a real line, logged in, and turned paging off.
Lines are added to ``LINES`` as their simulator endpoints exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.console import Console
from agent.secrets import Secret
from agent.transports.base import Credentials
from agent.transports.ssh import SSHTransport
from drivers import driver_class
from drivers.base import Driver
from simulators import PbxState, load_scenario, serve_ssh

PASSWORD = "contract-Pw-4417"
VENDORS = ("panasonic", "toshiba")


@dataclass
class Connected:
    driver: Driver
    pbx: PbxState
    vendor: str


LineFactory = Callable[[PbxState, Path, str], AbstractContextManager[Connected]]


@contextmanager
def over_ssh(pbx: PbxState, folder: Path, vendor: str) -> Iterator[Connected]:
    with serve_ssh(pbx, host_key_path=folder / "host_key", password=PASSWORD) as endpoint:
        known_hosts = folder / "known_hosts"
        known_hosts.write_text(endpoint.known_hosts_line() + "\n")
        credentials = Credentials("INSTALLER", Secret(PASSWORD))
        transport = SSHTransport(host=endpoint.host, port=endpoint.port,
                                 credentials=credentials, known_hosts=known_hosts)
        yield from _drive(transport, pbx, vendor, credentials)


def _drive(transport: SSHTransport, pbx: PbxState, vendor: str,
           credentials: Credentials) -> Iterator[Connected]:
    cls = driver_class(vendor)
    transport.open()
    try:
        driver = cls(Console(transport, cls.dialect, timeout=10))
        driver.open_session(credentials)
        yield Connected(driver=driver, pbx=pbx, vendor=vendor)
        driver.close_session()
    finally:
        transport.close()


LINES: dict[str, LineFactory] = {"ssh": over_ssh}


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=sorted(LINES))
def line(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(vendor: str, line: str, tmp_path: Path) -> Iterator[Callable[[str], Connected]]:
    """``connect("one-trunk-dead")`` → a driver on ``<vendor>-one-trunk-dead`` over ``line``."""
    with ExitStack() as stack:
        def _connect(situation: str) -> Connected:
            pbx = load_scenario(f"{vendor}-{situation}")
            return stack.enter_context(LINES[line](pbx, tmp_path, vendor))
        yield _connect
