"""The real Panasonic driver over every line type, against the simulators: connect (or
dial), log in, run commands, log out, hang up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from agent.errors import ParseError
from agent.line.console import Console
from drivers.panasonic import PanasonicDriver
from simulators import PbxState
from simulators.lines import (
    LineConditions,
    NoiseDirection,
    PhoneBook,
    serve_modem,
    serve_pty,
    serve_rfc2217,
    serve_tcp,
    serve_telnet,
)

from .conftest import (
    CREDENTIALS,
    PASSWORD,
    RFC2217_WARNINGS,
    expected_survey,
    line_for,
    modem_url,
    open_url,
    survey,
)

pytestmark = RFC2217_WARNINGS

Line = Callable[[PbxState, Path, LineConditions], AbstractContextManager[str]]


@contextmanager
def telnet(pbx: PbxState, _tmp: Path, conditions: LineConditions) -> Iterator[str]:
    with serve_telnet(pbx, password=PASSWORD, conditions=conditions) as endpoint:
        yield endpoint.url


@contextmanager
def tcp(pbx: PbxState, _tmp: Path, conditions: LineConditions) -> Iterator[str]:
    with serve_tcp(pbx, password=PASSWORD, conditions=conditions) as endpoint:
        yield endpoint.url


@contextmanager
def serial(pbx: PbxState, _tmp: Path, conditions: LineConditions) -> Iterator[str]:
    with serve_pty(pbx, password=PASSWORD, conditions=conditions) as device:
        yield f"serial://{device}?baud=9600&databits=8&parity=N&stopbits=1"


@contextmanager
def rfc2217(pbx: PbxState, _tmp: Path, conditions: LineConditions) -> Iterator[str]:
    with serve_pty(pbx, password=PASSWORD, conditions=conditions) as device, \
            serve_rfc2217(device) as server:
        yield f"{server.url}?baud=9600&parity=N"


@contextmanager
def modem(pbx: PbxState, tmp: Path, conditions: LineConditions) -> Iterator[str]:
    book = PhoneBook()
    book.add_site("599", pbx, password=PASSWORD, conditions=conditions)
    with serve_modem(book, state_dir=tmp) as endpoint:
        yield modem_url(endpoint)
        assert endpoint.modem.wait_on_hook(5), "the modem was left off-hook"
        assert endpoint.modem.event_kinds()[-1] == "on-hook"


LINES: dict[str, Line] = {"telnet": telnet, "tcp": tcp, "serial": serial,
                          "rfc2217": rfc2217, "modem": modem}


@pytest.mark.parametrize("kind", LINES)
def test_driver_reads_the_pbx_over_every_line(kind: str, pbx: PbxState, tmp_path: Path) -> None:
    with LINES[kind](pbx, tmp_path, LineConditions()) as url:
        transport = open_url(url)
        try:
            assert survey(transport) == expected_survey(pbx)
        finally:
            transport.close()
        assert transport.bytes_in > 1000 and transport.bytes_out > 0


@pytest.mark.parametrize("kind", ["telnet", "serial", "modem"])
def test_driver_over_a_9600_baud_line(kind: str, pbx: PbxState, tmp_path: Path) -> None:
    with LINES[kind](pbx, tmp_path, LineConditions(baud=9600)) as url, line_for(url) as line:
        assert survey(line) == expected_survey(pbx)


def test_close_is_idempotent_on_every_line(pbx: PbxState, tmp_path: Path) -> None:
    for kind, line in LINES.items():
        with line(pbx, tmp_path / kind, LineConditions()) as url:
            transport = open_url(url)
            transport.close()
            transport.close()


@pytest.mark.parametrize("kind", ["serial", "modem"])
def test_noise_on_serial_and_modem_lines_is_survived(kind: str, pbx: PbxState,
                                                     tmp_path: Path) -> None:
    """The same conditions code adds noise on every line; with this seed it lands in
    replies, and every reading still comes out right (a ParseError is read again)."""
    conditions = LineConditions(noise_rate=1e-3, noise_seed=5,
                                noise_direction=NoiseDirection.TO_CLIENT)
    with LINES[kind](pbx, tmp_path, conditions) as url, line_for(url) as line:
        console = Console(line, PanasonicDriver.dialect, timeout=5)
        driver = PanasonicDriver(console)
        driver.open_session(CREDENTIALS)
        for _ in range(3):
            for getter in (driver.cards, driver.extensions):
                for attempt in range(3):
                    try:
                        getter()
                        break
                    except ParseError:
                        assert attempt < 2
        driver.close_session()
    inbound = b"".join(c.data for c in console.transcript.redacted_chunks() if c.direction == "in")
    assert any(byte >= 0x80 for byte in inbound), "noise landed (the PBX sends ASCII only)"


@pytest.mark.parametrize("kind", ["telnet", "serial", "modem"])
def test_a_bare_cr_dialect_over_real_lines(kind: str, tmp_path: Path) -> None:
    """The Strata console ends its lines with a bare CR; the same lines carry it."""
    from drivers.toshiba.driver import ToshibaDriver
    from simulators import load_scenario

    strata = load_scenario("toshiba-healthy")
    with LINES[kind](strata, tmp_path, LineConditions(baud=19200)) as url, \
            line_for(url) as line:
        driver = ToshibaDriver(Console(line, ToshibaDriver.dialect, timeout=10))
        driver.open_session(CREDENTIALS)
        assert driver.system_info().model == strata.system.model
        assert len(driver.extensions()) == len(strata.extensions())
        driver.close_session()
