"""One factory, every URL form, and bad input named as such."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from agent.errors import InputError
from agent.line.transports import (
    Credentials,
    LineRequest,
    Transport,
    register_transport,
    schemes,
    transport_for_url,
)
from agent.line.transports.modem import DEFAULT_INIT, ModemTransport
from agent.line.transports.registry import ENTRY_POINT_GROUP, unregister_transport
from agent.line.transports.serial import SerialTransport
from agent.line.transports.ssh import SSHTransport
from agent.line.transports.telnet import TelnetTransport

from .conftest import CREDENTIALS


def build(url: str, **options: Any) -> object:
    return transport_for_url(url, credentials=CREDENTIALS, **options)


def test_every_scheme_builds_its_transport() -> None:
    assert isinstance(build("ssh://pbx.example:2222"), SSHTransport)
    assert isinstance(build("telnet://pbx.example"), TelnetTransport)
    assert isinstance(build("tcp://ts.example:4001"), SerialTransport)
    assert isinstance(build("rfc2217://ts.example:7001"), SerialTransport)
    assert isinstance(build("serial:///dev/ttyUSB0"), SerialTransport)
    assert isinstance(build("modem:///dev/ttyUSB0?number=599"), ModemTransport)
    assert schemes() == ("ssh", "telnet", "tcp", "rfc2217", "serial", "modem")


def test_the_built_in_schemes_are_entry_points_like_a_plug_in() -> None:
    declared = {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)}
    assert declared["tcp"] == "agent.line.transports.tcp:from_url"
    assert set(declared) >= set(schemes())


class _X25Line(TelnetTransport):
    """A stand-in for a plug-in's own line type."""


@pytest.fixture
def x25() -> Iterator[list[LineRequest]]:
    seen: list[LineRequest] = []

    def build_x25(line: LineRequest) -> Transport:
        seen.append(line)
        host, port = line.host_port(1998)
        return _X25Line(host=host, port=port, connect_timeout=line.options.number("pad", 1.0))

    register_transport("x25", build_x25)
    try:
        yield seen
    finally:
        unregister_transport("x25")


def test_a_scheme_registered_in_process_is_found_by_the_factory(
        x25: list[LineRequest]) -> None:
    line = build("x25://pad.example?pad=2.5", known_hosts=Path("/kh"))
    assert isinstance(line, _X25Line)
    assert (line.host, line.port, line.connect_timeout) == ("pad.example", 1998, 2.5)
    assert x25[0].credentials == CREDENTIALS and x25[0].known_hosts == Path("/kh")
    assert schemes()[-1] == "x25"
    with pytest.raises(InputError, match=r"unknown option\(s\) baud for x25:// lines.*"
                                         r"supported: pad"):
        build("x25://pad.example?baud=9600")


def test_an_unregistered_scheme_is_unsupported_again(x25: list[LineRequest]) -> None:
    unregister_transport("x25")
    with pytest.raises(InputError, match="unsupported line type 'x25'"):
        build("x25://pad.example")


def test_unknown_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(InputError, match="supported: ssh, telnet, tcp, rfc2217, serial, modem"):
        build("x25://pbx")


def test_a_password_in_the_url_is_never_repeated() -> None:
    with pytest.raises(InputError) as caught:
        build("x25://user:hunter2@pbx:1")
    assert "hunter2" not in str(caught.value)


def test_serial_settings_from_the_query() -> None:
    line = build("serial:///dev/ttyS0?baud=1200&databits=7&parity=e&stopbits=2&xonxoff=1")
    assert isinstance(line, SerialTransport)
    assert line.settings.describe() == "1200 7E2 flow=xonxoff"
    assert line.display_url == "serial:///dev/ttyS0"
    assert line.wake == b"\r"


def test_site_options_win_over_the_query() -> None:
    line = build("serial:///dev/ttyS0?baud=1200", baud=9600, rtscts=True, wake="")
    assert isinstance(line, SerialTransport)
    assert (line.settings.baud, line.settings.rtscts, line.wake) == (9600, True, b"")


def test_tcp_and_rfc2217_go_through_pyserial_urls() -> None:
    tcp = build("tcp://ts.example:4001")
    rfc = build("rfc2217://ts.example:7001?baud=2400")
    assert isinstance(tcp, SerialTransport) and isinstance(rfc, SerialTransport)
    assert (tcp.port_url, tcp.display_url) == ("socket://ts.example:4001", "tcp://ts.example:4001")
    assert rfc.port_url == "rfc2217://ts.example:7001?timeout=10"
    assert rfc.settings is not None and rfc.settings.baud == 2400


def test_rfc2217_passes_pyserials_options_and_keeps_the_servers_settings() -> None:
    line = build("rfc2217://ts.example:7001?ign_set_control&poll_modem=1&logging=DEBUG"
                 "&timeout=2.5")
    assert isinstance(line, SerialTransport)
    assert line.port_url == ("rfc2217://ts.example:7001?timeout=2.5&ign_set_control="
                             "&poll_modem=&logging=debug")
    assert line.display_url == "rfc2217://ts.example:7001"
    assert line.settings is None, "no settings in the URL: the terminal server's are kept"
    off = build("rfc2217://ts.example:7001?ign_set_control=0")
    assert isinstance(off, SerialTransport)
    assert off.port_url == "rfc2217://ts.example:7001?timeout=10"
    with pytest.raises(InputError, match="logging='loud'"):
        build("rfc2217://ts.example:7001?logging=loud")
    with pytest.raises(InputError, match="timeout='soon'"):
        build("rfc2217://ts.example:7001?timeout=soon")


def test_telnet_wake_options() -> None:
    line = build("telnet://ts.example:7002?wake=%0D&wake_tries=5&wake_interval=0.5")
    assert isinstance(line, TelnetTransport) and line.wake is not None
    assert (line.wake.data, line.wake.tries, line.wake.interval) == (b"\r", 5, 0.5)
    plain = build("telnet://pbx")
    assert isinstance(plain, TelnetTransport) and plain.wake is None
    with pytest.raises(InputError, match="wake_tries=99"):
        build("telnet://ts.example:7002?wake=%0D&wake_tries=99")


def test_modem_options() -> None:
    line = build("modem:///dev/ttyACM0?number=01204%20368634&init=ATZ&init=ATE0V1X4&retries=4"
                 "&backoff=2.5&dial=pulse&guard=0.5&carrier_file=/run/modem.json&baud=2400")
    assert isinstance(line, ModemTransport)
    o = line.options
    assert (o.number, tuple(o.init), o.retries, o.backoff, o.pulse, o.guard) == (
        "01204 368634", ("ATZ", "ATE0V1X4"), 4, 2.5, True, 0.5)
    assert o.carrier_file == Path("/run/modem.json")
    assert line.display_url == "modem:///dev/ttyACM0?number=01204 368634"
    assert tuple(build("modem:///dev/ttyS1?number=1").options.init) == DEFAULT_INIT  # type: ignore[attr-defined]


def test_ssh_options() -> None:
    line = build("ssh://admin@pbx:22?tofu=1&legacy=yes&keepalive=0&key_file=~/id_ed25519",
                 known_hosts=Path("/kh"))
    assert isinstance(line, SSHTransport)
    assert (line.tofu, line.legacy, line.keepalive, line.known_hosts) == (True, True, 0,
                                                                          Path("/kh"))
    assert line.key_file == Path("~/id_ed25519").expanduser()
    assert line.credentials.username == "admin"
    assert (line.authenticates, line.pty, line.wake, line.via) == (True, "cooked", None, None)


def test_ssh_console_server_and_jump_host_options() -> None:
    console = build("ssh://ops@ts:22?pbx_login=1&wake=%0D")
    assert isinstance(console, SSHTransport)
    assert not console.authenticates, "the driver logs in to the PBX after SSH"
    assert console.pty == "raw" and console.wake is not None and console.wake.data == b"\r"
    cooked = build("ssh://ops@ts:22?pbx_login=1&pty=cooked")
    assert isinstance(cooked, SSHTransport) and cooked.pty == "cooked"
    hop = build("ssh://INSTALLER@pbx:2222?via=ssh://jump@bastion:2200&via_key_file=/k",
                known_hosts=Path("/kh"))
    assert isinstance(hop, SSHTransport) and hop.via is not None
    assert (hop.via.host, hop.via.port, hop.via.credentials) == ("bastion", 2200,
                                                                 Credentials("jump", None))
    assert (hop.via.key_file, hop.via.known_hosts) == (Path("/k"), Path("/kh"))
    assert hop.display_url == "ssh://INSTALLER@pbx:2222?via=ssh://jump@bastion:2200"
    bare = build("ssh://pbx?via=jump@bastion&via_key_file=/k")
    assert isinstance(bare, SSHTransport) and bare.via is not None and bare.via.port == 22


@pytest.mark.parametrize(("url", "message"), [
    ("ssh://pbx?pty=cbreak", "pty='cbreak'.*cooked, raw, none"),
    ("ssh://pbx?via=jump@bastion", "needs via_key_file"),
    ("ssh://pbx?via=jump:secret@bastion&via_key_file=/k", "expected ssh://user@host"),
    ("ssh://pbx?via=bastion&via_key_file=/k", "expected ssh://user@host"),
    ("ssh://pbx?via=telnet://jump@bastion&via_key_file=/k", "expected ssh://user@host"),
    ("ssh://pbx?via_key_file=/k", "needs via="),
])
def test_bad_ssh_hop_options(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build(url)


@pytest.mark.parametrize(("url", "message"), [
    ("ssh://pbx?tofu=maybe", "tofu='maybe'.*expected 1 or 0"),
    ("serial:///dev/ttyS0?baud=fast", "baud='fast'.*whole number"),
    ("serial:///dev/ttyS0?parity=X", "parity must be one of"),
    ("serial:///dev/ttyS0?databits=9", "data bits must be 5"),
    ("serial:///dev/ttyS0?stopbits=3", "stop bits must be 1, 1.5 or 2"),
    ("serial://dev/ttyS0", "absolute device path"),
    ("modem:///dev/ttyS0", r"needs the number to dial"),
    ("modem:///dev/ttyS0?number=1&dial=rotary", "expected tone or pulse"),
    ("modem:///dev/ttyS0?number=1&retries=-1", "at least 0"),
    ("telnet://pbx?baud=9600", r"unknown option\(s\) baud for telnet:// lines"),
    ("serial:///dev/ttyS0?speed=9600", r"unknown option\(s\) speed .*supported: .*baud"),
    ("tcp://host", "needs a host and a port"),
    ("ssh://host:99999", "bad port"),
])
def test_bad_urls_are_bad_input(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build(url)
