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

from agent.line.console import Console
from agent.line.secrets import Secret
from agent.line.transports import transport_for_url
from agent.line.transports.base import Credentials, Transport
from drivers import driver_class
from drivers.base import Driver
from simulators import PbxState, load_scenario, serve_ssh
from simulators.lines import PhoneBook, serve_modem, serve_pty, serve_telnet

PASSWORD = "contract-Pw-4417"
VENDORS = ("panasonic", "toshiba")


@dataclass
class Connected:
    driver: Driver
    pbx: PbxState
    vendor: str


LineFactory = Callable[[PbxState, Path, str], AbstractContextManager[Connected]]


CREDENTIALS = Credentials("INSTALLER", Secret(PASSWORD))


@contextmanager
def over_ssh(pbx: PbxState, folder: Path, vendor: str) -> Iterator[Connected]:
    with serve_ssh(pbx, host_key_path=folder / "host_key", password=PASSWORD) as endpoint:
        known_hosts = folder / "known_hosts"
        known_hosts.write_text(endpoint.known_hosts_line() + "\n")
        transport = transport_for_url(f"ssh://INSTALLER@{endpoint.host}:{endpoint.port}",
                                      credentials=CREDENTIALS, known_hosts=known_hosts)
        yield from _drive(transport, pbx, vendor, CREDENTIALS)


@contextmanager
def over_telnet(pbx: PbxState, _folder: Path, vendor: str) -> Iterator[Connected]:
    with serve_telnet(pbx, password=PASSWORD) as endpoint:
        transport = transport_for_url(f"telnet://127.0.0.1:{endpoint.port}",
                                      credentials=CREDENTIALS)
        yield from _drive(transport, pbx, vendor, CREDENTIALS)


@contextmanager
def over_serial(pbx: PbxState, _folder: Path, vendor: str) -> Iterator[Connected]:
    with serve_pty(pbx, password=PASSWORD) as device:
        transport = transport_for_url(f"serial://{device}?baud=9600",
                                      credentials=CREDENTIALS)
        yield from _drive(transport, pbx, vendor, CREDENTIALS)


@contextmanager
def over_modem(pbx: PbxState, folder: Path, vendor: str) -> Iterator[Connected]:
    book = PhoneBook()
    book.add_site("599", pbx, password=PASSWORD)
    with serve_modem(book, state_dir=folder / "modem") as endpoint:
        url = (f"modem://{endpoint.device}?number=599&guard=0.2&backoff=0.05"
               f"&carrier_file={endpoint.modem.status_path}&init=ATZ&init=ATE0V1Q0X4S7=1S12=10")
        transport = transport_for_url(url, credentials=CREDENTIALS)
        yield from _drive(transport, pbx, vendor, CREDENTIALS)
        assert endpoint.modem.wait_on_hook(5.0), "the modem was left off-hook"


def _drive(transport: Transport, pbx: PbxState, vendor: str,
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


LINES: dict[str, LineFactory] = {"ssh": over_ssh, "telnet": over_telnet,
                                 "serial": over_serial, "modem": over_modem}


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
