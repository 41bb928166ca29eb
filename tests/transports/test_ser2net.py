"""The health check through real ser2net (Debian's ``ser2net`` 4) in front of the
simulated PBX's serial console — RFC 2217, telnet and raw TCP accepters — run with the
real CLI, as a site with a terminal server is run.

The console is the simulator's pty (it wakes on a key press, as a real serial console
does). A Linux pty has no modem-control lines, so ser2net never answers RFC 2217
SET-CONTROL (DTR, RTS, flow) on it, exactly as on a real port without those lines, and
its control port shows the device's config as ``?`` while connected: the port's
settings are read back from the pty's termios instead (the baud rate; this kernel's
ptys keep the speed but drop data-bit and parity changes).
"""

from __future__ import annotations

import os
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.line.transports.serial import SerialTransport
from simulators import PbxState
from simulators.lines import PhoneBook, serve_modem, serve_pty

from .conftest import PASSWORD, RFC2217_WARNINGS, expected_survey, line_for, modem_url, survey
from .real_programs import Ser2net, run_health_check, serve_ser2net

pytestmark = RFC2217_WARNINGS

@pytest.fixture
def console(pbx: PbxState) -> Iterator[str]:
    with serve_pty(pbx, password=PASSWORD) as device:
        yield device


@pytest.fixture
def ser2net(console: str, tmp_path: Path) -> Iterator[Ser2net]:
    with serve_ser2net(console, tmp_path / "ser2net", settings="1200n81") as server:
        yield server


@pytest.mark.parametrize("accepter", ["rfc2217", "telnet", "tcp"])
def test_health_check_through_ser2net(accepter: str, ser2net: Ser2net, tmp_path: Path) -> None:
    """RFC 2217 with no options (no settings pushed, no SET-CONTROL awaited); telnet with
    the wake key the terminal server's console needs; raw TCP (wakes with CR)."""
    url = {"rfc2217": f"rfc2217://127.0.0.1:{ser2net.rfc2217}",
           "telnet": f"telnet://127.0.0.1:{ser2net.telnet}?wake=%0D",
           "tcp": f"tcp://127.0.0.1:{ser2net.tcp}"}[accepter]
    done, result = run_health_check([url], tmp_path)
    assert done.returncode == 0, done.stderr
    assert result["status"] == "passed" and result["path"] == url.split("?")[0]
    assert "Traceback" not in done.stderr


def test_telnet_without_wake_sees_nothing_from_the_console(ser2net: Ser2net,
                                                           tmp_path: Path) -> None:
    """The reason for ``wake``: without it the console never speaks (a line problem)."""
    done, result = run_health_check([f"telnet://127.0.0.1:{ser2net.telnet}"], tmp_path)
    assert done.returncode == 3 and result["status"] == "unreachable"
    assert "login prompt" in str(result["error"])


def pty_baud(device: str) -> int:
    fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        return int(termios.tcgetattr(fd)[4])
    finally:
        os.close(fd)


def test_rfc2217_keeps_the_terminal_servers_settings_unless_the_url_names_them(
        pbx: PbxState, console: str, ser2net: Ser2net) -> None:
    url = f"rfc2217://127.0.0.1:{ser2net.rfc2217}"
    with line_for(url) as line:
        assert isinstance(line, SerialTransport) and line.settings is None
        assert pty_baud(console) == termios.B1200, "ser2net's 1200 was kept"
        assert survey(line) == expected_survey(pbx)
    with line_for(f"{url}?baud=9600&ign_set_control") as line:
        assert pty_baud(console) == termios.B9600, "the URL's baud was pushed"
        assert survey(line) == expected_survey(pbx)
    assert "rfc2217" in ser2net.admin_command("showshortport")


DEAD_PATHS = {"tcp": "tcp://127.0.0.1:{port}", "telnet": "telnet://127.0.0.1:{port}?wake=%0D",
              "rfc2217": "rfc2217://127.0.0.1:{port}"}


@pytest.mark.parametrize("accepter", ["tcp", "telnet", "rfc2217"])
def test_a_dead_terminal_server_port_falls_through_to_the_modem(
        accepter: str, pbx: PbxState, tmp_path: Path) -> None:
    """ser2net accepts the connection, then cannot open its device ("Device open
    failure") and drops it: no PBX session on that path, so the modem is dialled and
    why the first path failed is recorded. The RFC 2217 client's reader thread, whose
    socket dies under it mid-negotiation, prints no traceback."""
    book = PhoneBook()
    book.add_site("599", pbx, password=PASSWORD)
    with serve_ser2net(str(tmp_path / "ttyGONE0"), tmp_path / "ser2net") as dead, \
            serve_modem(book, state_dir=tmp_path / "modem") as modem:
        port = getattr(dead, accepter)
        first = DEAD_PATHS[accepter].format(port=port)
        done, result = run_health_check([first, modem_url(modem)], tmp_path)
        assert modem.modem.wait_on_hook(5)
    assert done.returncode == 0, done.stderr
    assert result["status"] == "passed"
    tried = result["paths_tried"]
    assert isinstance(tried, list) and len(tried) == 2
    assert tried[0]["url"] == f"{accepter}://127.0.0.1:{port}" and tried[0]["error"]
    assert tried[1]["url"].startswith("modem://") and tried[1]["error"] == ""
    assert result["path"] == tried[1]["url"]
    assert "Traceback" not in done.stderr and "Exception in thread" not in done.stderr
