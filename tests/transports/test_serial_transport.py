"""Serial, RFC 2217 and raw TCP lines through pyserial, against the simulators."""

from __future__ import annotations

import os
import termios
import time

import pytest

from agent.errors import ConnectFailed, LineDropped
from agent.line.console import Console
from drivers.panasonic import PanasonicDriver
from simulators import PbxState
from simulators.lines import (
    LineConditions,
    serve_pty,
    serve_rfc2217,
    serve_tcp,
    start_pty_server,
)

from .conftest import CREDENTIALS, PASSWORD, RFC2217_WARNINGS, line_for, open_url

pytestmark = RFC2217_WARNINGS


def test_read_returns_nothing_at_the_deadline(pbx: PbxState) -> None:
    with serve_pty(pbx, password=PASSWORD) as device, \
            line_for(f"serial://{device}?wake=") as line:
        start = time.monotonic()
        assert line.read(100, 0.2) == b""
        assert 0.15 < time.monotonic() - start < 1.0


def test_the_wake_keystroke_brings_the_login_prompt(pbx: PbxState) -> None:
    with serve_pty(pbx, password=PASSWORD) as device, line_for(f"serial://{device}") as line:
        console = Console(line, PanasonicDriver.dialect, timeout=5)
        console.wait_for([r"Login: \Z"])
        assert line.bytes_out == 1


def test_a_pulled_cable_is_line_dropped(pbx: PbxState) -> None:
    endpoint = start_pty_server(pbx, password=PASSWORD)
    try:
        line = open_url(f"serial://{endpoint.device}")
        assert line.read(100, 5).endswith(b"Login: ")
    finally:
        endpoint.close()  # destroys the pty
    with pytest.raises(LineDropped, match="dropped"):
        line.read(100, 5)
    with pytest.raises(LineDropped):
        line.write(b"x")
    line.close()


def test_the_port_is_opened_exclusively(pbx: PbxState) -> None:
    with serve_pty(pbx, password=PASSWORD) as device, line_for(f"serial://{device}"):
        with pytest.raises(ConnectFailed, match="lock"):
            open_url(f"serial://{device}")
        shared = open_url(f"serial://{device}?exclusive=0&wake=")
        shared.close()


def test_a_missing_device_is_connect_failed() -> None:
    with pytest.raises(ConnectFailed, match="cannot open serial:///dev/nonexistent-tty"):
        open_url("serial:///dev/nonexistent-tty")


def test_pacing_at_9600_baud_measured_through_the_transport(pbx: PbxState) -> None:
    with serve_pty(pbx, password=PASSWORD, conditions=LineConditions(baud=9600)) as device, \
            line_for(f"serial://{device}?baud=9600") as line:
        driver = PanasonicDriver(Console(line, PanasonicDriver.dialect, timeout=10))
        driver.open_session(CREDENTIALS)
        console = driver.console
        console.sendline("EXT")
        console.expect_exact("EXT")  # the echo: the first bytes of the reply
        before, start = line.bytes_in, time.monotonic()
        console.wait_for_prompt(10)
        rate = (line.bytes_in - before) / (time.monotonic() - start)
        assert line.bytes_in - before > 600
        assert rate == pytest.approx(960, rel=0.05)


def test_rfc2217_carries_the_port_settings_to_the_far_end(pbx: PbxState) -> None:
    with serve_pty(pbx, password=PASSWORD) as device, serve_rfc2217(device) as server, \
            line_for(f"{server.url}?baud=2400&stopbits=2&xonxoff=1") as line:
        line.read(100, 5)  # the banner: the server has the port open and configured
        fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            iflag, _oflag, cflag, _lflag, ispeed, _ospeed, _cc = termios.tcgetattr(fd)
        finally:
            os.close(fd)
        assert ispeed == termios.B2400  # (a pty refuses 7 data bits and parity)
        assert cflag & termios.CSTOPB and iflag & termios.IXON


def test_a_setting_the_far_port_refuses_does_not_stop_the_server(pbx: PbxState) -> None:
    with serve_pty(pbx, password=PASSWORD) as device, serve_rfc2217(device) as server:
        with line_for(f"{server.url}?databits=7&parity=E") as odd:
            assert odd.read(100, 5).endswith(b"Login: ")
        with line_for(server.url) as line:
            assert line.read(100, 5).endswith(b"Login: ")


def test_rfc2217_server_going_away_is_line_dropped(pbx: PbxState) -> None:
    with serve_pty(pbx, password=PASSWORD) as device:
        with serve_rfc2217(device) as server:
            line = open_url(server.url)
            line.read(100, 5)
        with pytest.raises(LineDropped):
            for _ in range(3):  # pyserial notices its reader thread ended on the next read
                line.read(100, 1)
        line.close()


def test_raw_tcp_drop_is_line_dropped(pbx: PbxState) -> None:
    with serve_tcp(pbx, password=PASSWORD,
                   conditions=LineConditions(drop_after_bytes=20)) as endpoint, \
            line_for(endpoint.url) as line, pytest.raises(LineDropped, match="dropped"):
        for _ in range(10):
            line.read(100, 2)
