"""The telnet and raw-TCP console lines, spoken to byte by byte."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent.line.telnet_codec import DO, DONT, ECHO, IAC, SB, SE, SGA, WILL, WONT
from simulators import PbxState
from simulators.lines import LineConditions, TcpEndpoint, serve_tcp, serve_telnet
from simulators.lines.telnet import TelnetServerCodec

from .conftest import PASSWORD, PROMPT, Reader, socket_reader

TTYPE, NAWS = 24, 31
OPENING = bytes((IAC, WILL, ECHO, IAC, WILL, SGA))


class Recorder:
    """A stand-in console session that records what it is fed."""

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self.send = send
        self.fed = bytearray()
        self.closed = False
        self.fed_event = threading.Event()

    def start(self) -> None:
        self.send(b"\xffbin\rCR\r\n")

    def feed(self, data: bytes) -> None:
        self.fed += data
        self.fed_event.set()

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def telnet(pbx: PbxState) -> Iterator[TcpEndpoint]:
    with serve_telnet(pbx, password=PASSWORD) as endpoint:
        yield endpoint


def connect(endpoint: TcpEndpoint) -> tuple[socket.socket, Reader]:
    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=10)
    return sock, socket_reader(sock)


def login(sock: socket.socket, reader: Reader) -> None:
    reader.until(b"Login: ")
    sock.sendall(b"INSTALLER\r\n")
    reader.until(b"Password: ")
    sock.sendall(PASSWORD.encode() + b"\r\n")
    reader.until(PROMPT)


# --- the codec alone --------------------------------------------------------------------


def test_codec_accepts_acks_and_refuses_what_a_console_does_not_need() -> None:
    codec = TelnetServerCodec()
    assert codec.opening() == OPENING
    data, reply = codec.decode(bytes((IAC, DO, ECHO, IAC, DO, SGA)))  # acks: no reply
    assert (data, reply) == (b"", b"")
    assert codec.ours == {ECHO: True, SGA: True}
    _, reply = codec.decode(bytes((IAC, DO, TTYPE, IAC, WILL, NAWS, IAC, WILL, SGA)))
    assert reply == bytes((IAC, WONT, TTYPE, IAC, DONT, NAWS, IAC, DO, SGA))
    _, reply = codec.decode(bytes((IAC, WILL, SGA, IAC, DO, ECHO)))  # no change: silence
    assert reply == b""
    _, reply = codec.decode(bytes((IAC, DONT, ECHO)))
    assert reply == bytes((IAC, WONT, ECHO)) and codec.ours[ECHO] is False


def test_codec_refusal_of_an_offer_is_not_answered() -> None:
    codec = TelnetServerCodec()
    codec.opening()
    _, reply = codec.decode(bytes((IAC, DONT, ECHO)))
    assert reply == b"" and codec.ours[ECHO] is False


def test_codec_data_is_binary_safe_split_anywhere() -> None:
    stream = b"a" + bytes((IAC, IAC)) + b"b\r\x00c" + bytes((IAC, SB, TTYPE, 1, IAC, IAC,
                                                             IAC, SE)) + b"d"
    for cut in range(len(stream) + 1):
        codec = TelnetServerCodec()
        first, _ = codec.decode(stream[:cut])
        second, _ = codec.decode(stream[cut:])
        assert first + second == b"a\xffb\rcd", cut


def test_codec_encodes_iac_and_bare_cr() -> None:
    assert TelnetServerCodec().encode(b"\xff\r\nx\ry\r") == b"\xff\xff\r\nx\r\x00y\r\x00"


# --- on the wire ------------------------------------------------------------------------


def test_telnet_negotiates_then_logs_in_and_runs_a_command(telnet: TcpEndpoint) -> None:
    sock, reader = connect(telnet)
    with sock:
        assert reader.until(b"Login: ") == (
            OPENING + b"Panasonic KX-TDE200 Maintenance Console\r\nLogin: ")
        sock.sendall(bytes((IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, TTYPE)))
        assert reader.until(bytes((IAC, DONT, TTYPE))) == bytes((IAC, DONT, TTYPE))
        sock.sendall(b"INSTALLER\r\x00")  # CR NUL: the NVT form of a bare CR
        reader.until(b"Password: ")
        sock.sendall(PASSWORD.encode() + b"\r\n")
        reader.until(PROMPT)
        sock.sendall(b"VER\r\n")
        assert b"PMPR Software File Version" in reader.until(PROMPT)
        sock.sendall(b"EXIT\r\n")
        reader.until(b"BYE\r\n")
        with pytest.raises(EOFError):
            reader.until(b"never")
    assert telnet.wait_for_connections(0, 5)


def test_telnet_data_is_iac_escaped_both_ways(pbx: PbxState) -> None:
    sessions: list[Recorder] = []

    def recorder(send: Callable[[bytes], None]) -> Recorder:
        sessions.append(Recorder(send))
        return sessions[-1]

    with serve_telnet(pbx, password=PASSWORD, session_maker=recorder) as endpoint:
        sock, reader = connect(endpoint)
        with sock:
            reader.until(OPENING)
            assert reader.until(b"CR\r\n") == b"\xff\xffbin\r\x00CR\r\n"
            sock.sendall(b"\xff\xff\x00z")
            assert sessions[0].fed_event.wait(5)
            assert bytes(sessions[0].fed) == b"\xff\x00z"


def test_raw_tcp_has_no_negotiation_and_wakes_on_a_keystroke(pbx: PbxState) -> None:
    with serve_tcp(pbx, password=PASSWORD) as endpoint:
        sock, reader = connect(endpoint)
        with sock:
            assert reader.quiet_for(0.2) == b""  # a serial console does not know we came
            sock.sendall(b"\r")
            assert reader.until(b"Login: ") == (
                b"Panasonic KX-TDE200 Maintenance Console\r\nLogin: ")
            sock.sendall(b"INSTALLER\r")
            reader.until(b"Password: ")


def test_carrier_loss_after_n_bytes_cuts_the_connection(pbx: PbxState) -> None:
    with serve_telnet(pbx, password=PASSWORD,
                      conditions=LineConditions(drop_after_bytes=200)) as endpoint:
        sock, reader = connect(endpoint)
        with sock:
            login(sock, reader)
            sock.sendall(b"EXT\r")
            with pytest.raises(EOFError):
                reader.until(PROMPT)
        assert endpoint.stats.to_client == 200
        assert endpoint.stats.carrier_losses == 1
        assert endpoint.wait_for_connections(0, 5)


def test_carrier_loss_after_t_seconds(pbx: PbxState) -> None:
    with serve_telnet(pbx, password=PASSWORD,
                      conditions=LineConditions(drop_after_seconds=0.3)) as endpoint:
        sock, reader = connect(endpoint)
        with sock:
            start = time.monotonic()
            with pytest.raises(EOFError):
                reader.until(b"never")
            assert 0.25 < time.monotonic() - start < 3.0


def test_a_client_that_vanishes_ends_only_its_own_session(telnet: TcpEndpoint) -> None:
    rude, _ = connect(telnet)
    rude.close()
    sock, reader = connect(telnet)
    with sock:
        login(sock, reader)
    assert telnet.wait_for_connections(0, 5)


def test_hundreds_of_sessions_at_once(pbx: PbxState) -> None:
    count = 200

    def session(endpoint: TcpEndpoint, ready: threading.Barrier) -> bytes:
        sock, reader = connect(endpoint)
        with sock:
            login(sock, reader)
            ready.wait(30)  # every session is logged in at the same time
            sock.sendall(b"VER\r")
            return reader.until(PROMPT)

    with serve_telnet(pbx, password=PASSWORD) as endpoint:
        ready = threading.Barrier(count)
        with ThreadPoolExecutor(count) as pool:
            replies = list(pool.map(lambda _: session(endpoint, ready), range(count)))
        assert all(b"PMPR Software File Version 5.0000" in r for r in replies)
        assert endpoint.wait_for_connections(0, 10)


def test_shutdown_with_clients_connected_is_quick(pbx: PbxState) -> None:
    with serve_telnet(pbx, password=PASSWORD) as endpoint:
        clients = [connect(endpoint)[0] for _ in range(5)]
        assert endpoint.wait_for_connections(5, 5)
        start = time.monotonic()
    assert time.monotonic() - start < 2.0
    for sock in clients:
        sock.close()
