"""A pty as the PBX's serial port: opened with pyserial, paced, cut."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import serial

from simulators import PbxState
from simulators.lines import LineConditions, NoiseDirection, PtyEndpoint, start_pty_server

from .conftest import PASSWORD, PROMPT, Reader, open_port, port_reader

CLEAN_BANNER = b"Panasonic KX-TDE200 Maintenance Console\r\nLogin: "


@pytest.fixture
def endpoint(pbx: PbxState) -> Iterator[PtyEndpoint]:
    line = start_pty_server(pbx, password=PASSWORD)
    yield line
    line.close()


def login(port: serial.Serial, reader: Reader) -> None:
    port.write(b"\r")
    reader.until(b"Login: ")
    port.write(b"INSTALLER\r")
    reader.until(b"Password: ")
    port.write(PASSWORD.encode() + b"\r")
    reader.until(PROMPT)


def test_the_console_wakes_on_a_keystroke_and_logs_in(endpoint: PtyEndpoint) -> None:
    with open_port(endpoint.device) as port:
        reader = port_reader(port)
        assert reader.quiet_for(0.1) == b""
        login(port, reader)
        port.write(b"VER\r")
        assert b"PMPR Software File Version 5.0000\r\n" in reader.until(PROMPT)
        port.write(b"EXIT\r")
        reader.until(b"BYE\r\n")
        port.write(b"\r")  # the next keystroke wakes a new session
        reader.until(b"Login: ")


def test_closing_the_port_ends_the_session_and_frees_programming(pbx: PbxState,
                                                                  endpoint: PtyEndpoint) -> None:
    with open_port(endpoint.device) as port:
        reader = port_reader(port)
        login(port, reader)
        port.write(b"PRG\r")
        reader.until(b"(PRG)> ")
        assert pbx.programming_holder is not None
    # Reopened at once — faster than a hang-up can be seen between two polls: the kernel
    # still reports the reopen (settings applied, then input flushed).
    with open_port(endpoint.device) as port:
        reader = port_reader(port)
        port.write(b"\r")
        assert reader.until(b"Login: ").startswith(b"Panasonic")
        assert pbx.programming_holder is None


@pytest.mark.parametrize(("baud", "command"), [(9600, b"EXT\r"), (1200, b"VER\r")])
def test_pacing_matches_the_baud_rate(pbx: PbxState, baud: int, command: bytes) -> None:
    line = start_pty_server(pbx, password=PASSWORD, conditions=LineConditions(baud=baud))
    try:
        with open_port(line.device) as port:
            reader = port_reader(port)
            login(port, reader)
            port.write(b"PAGE OFF\r")
            reader.until(PROMPT)
            port.write(command)
            first = reader.until(command[:1])  # the echo's first byte starts the clock
            start = time.monotonic()
            rest = reader.until(PROMPT)
            elapsed = time.monotonic() - start
        measured = (len(first) - 1 + len(rest)) / elapsed
        assert measured == pytest.approx(baud / 10, rel=0.05)
        assert len(rest) > 60 if baud == 1200 else len(rest) > 600
    finally:
        line.close()


def test_carrier_loss_cuts_the_cable(pbx: PbxState) -> None:
    line = start_pty_server(pbx, password=PASSWORD,
                            conditions=LineConditions(drop_after_bytes=60))
    try:
        with open_port(line.device) as port:
            reader = port_reader(port)
            port.write(b"\r")
            reader.until(b"Login: ")
            port.write(b"INSTALLER\r")
            with pytest.raises(serial.SerialException):
                reader.until(b"never")
        assert line.stats.to_client == 60  # the banner is 49 bytes
        assert line.stats.carrier_losses == 1
        line.lines.wait_for_count(0, 5)
        assert not line.alive
    finally:
        line.close()


def test_noise_lands_on_the_line_at_about_its_rate(pbx: PbxState) -> None:
    conditions = LineConditions(noise_rate=0.05, noise_seed=11,
                                noise_direction=NoiseDirection.TO_CLIENT)
    line = start_pty_server(pbx, password=PASSWORD, conditions=conditions)
    try:
        with open_port(line.device) as port:
            reader = port_reader(port)
            port.write(b"\r")
            received = reader.until_noisy(CLEAN_BANNER)
        assert received != CLEAN_BANNER
        assert len(received) - len(CLEAN_BANNER) == line.stats.noise_bytes > 0
    finally:
        line.close()
