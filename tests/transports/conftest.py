"""Simulated PBXs on every line type, and the real Panasonic driver to talk to them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.line.console import Console
from agent.line.secrets import Secret
from agent.line.transcript import Transcript
from agent.line.transports import transport_for_url
from agent.line.transports.base import Credentials, Transport
from drivers.panasonic import PanasonicDriver
from simulators import PbxState, load_scenario
from simulators.lines import LineConditions, ModemEndpoint, PhoneBook, serve_modem

PASSWORD = "Tr4nsport-Secret-90"
CREDENTIALS = Credentials("INSTALLER", Secret(PASSWORD))
NUMBER = "599"
GUARD = 0.2  # modem guard time in tests: S12=10


@pytest.fixture
def pbx() -> PbxState:
    return load_scenario("panasonic-healthy")


@dataclass
class Survey:
    """What a short diagnostic session read from the PBX."""

    model: str
    cards: int
    extensions: int
    mode: str


def survey(transport: Transport, *, transcript: Transcript | None = None,
           timeout: float = 10.0, credentials: Credentials = CREDENTIALS) -> Survey:
    """Log in with the real driver, read a few getters, log out (the transport stays open)."""
    driver = PanasonicDriver(Console(transport, PanasonicDriver.dialect, timeout=timeout,
                                     transcript=transcript))
    driver.open_session(credentials)
    try:
        info = driver.system_info()
        return Survey(info.model, len(driver.cards()), len(driver.extensions()),
                      str(driver.operating_mode().mode))
    finally:
        driver.close_session()


def expected_survey(pbx: PbxState) -> Survey:
    return Survey(pbx.system.model, len(pbx.cards()), len(pbx.extensions()),
                  pbx.time_service.mode.lower())


def modem_url(endpoint: ModemEndpoint, *, number: str = NUMBER,
              init: list[str] | None = None, **options: object) -> str:
    """The modem URL for the emulator: quick guard time and S7, DCD from its status file."""
    query = {"number": number, "guard": GUARD, "backoff": 0.05,
             "carrier_file": endpoint.modem.status_path, **options}
    commands = init or ["ATZ", f"ATE0V1Q0X4S7=1S12={int(GUARD * 50)}"]
    parts = [f"{k}={v}" for k, v in query.items()] + [f"init={cmd}" for cmd in commands]
    return f"modem://{endpoint.device}?" + "&".join(parts)


@pytest.fixture
def book(pbx: PbxState) -> PhoneBook:
    book = PhoneBook()
    book.add_site(NUMBER, pbx, password=PASSWORD)
    return book


@pytest.fixture
def modem(book: PhoneBook, tmp_path: Path) -> Iterator[ModemEndpoint]:
    with serve_modem(book, state_dir=tmp_path / "modem") as endpoint:
        yield endpoint


def line_for(url: str, **options: Any) -> Transport:
    """The transport for ``url``, not yet open (``with line_for(url) as line:``)."""
    return transport_for_url(url, credentials=CREDENTIALS, connect_timeout=5.0, **options)


def open_url(url: str, **options: Any) -> Transport:
    transport = line_for(url, **options)
    transport.open()
    return transport


#: pyserial's RFC 2217 client still calls Thread.setDaemon/setName.
RFC2217_WARNINGS = pytest.mark.filterwarnings("ignore:set(Daemon|Name):DeprecationWarning")


__all__ = ["CREDENTIALS", "GUARD", "NUMBER", "PASSWORD", "RFC2217_WARNINGS", "LineConditions",
           "Survey", "expected_survey", "line_for", "modem_url", "open_url", "survey"]
