"""SMDR over the LAN with a raw socket: the login dialogue, streaming, drops, rude clients."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from time import monotonic

import pytest

from simulators import (
    CallGenerator,
    PbxState,
    SmdrEndpoint,
    SystemEvent,
    load_scenario,
    serve_smdr,
)
from simulators.panasonic.smdr import HEADER, RULE

DEADLINE = 10.0
BANNER = b"\r\nPanasonic KX-TDE200 SMDR\r\n-"


class Logger:
    """A call logger's raw TCP connection."""

    def __init__(self, endpoint: SmdrEndpoint) -> None:
        self.sock = socket.create_connection((endpoint.host, endpoint.port), timeout=DEADLINE)
        self.data = b""

    def read_until(self, marker: bytes) -> bytes:
        deadline = monotonic() + DEADLINE
        while marker not in self.data:
            assert monotonic() < deadline, f"no {marker!r} in {self.data[-200:]!r}"
            chunk = self.sock.recv(65536)
            assert chunk, f"EOF before {marker!r}: {self.data[-200:]!r}"
            self.data += chunk
        head, _, self.data = self.data.partition(marker)
        return head + marker

    def read_to_eof(self) -> bytes:
        deadline = monotonic() + DEADLINE
        while chunk := self.sock.recv(65536):
            assert monotonic() < deadline
            self.data += chunk
        out, self.data = self.data, b""
        return out

    def login(self, user: bytes = b"SMDR", password: bytes = b"PCCSMDR") -> None:
        assert self.read_until(b"\r\n-") == BANNER
        self.sock.sendall(user + b"\r\n")
        assert self.read_until(b"Enter Password:") == b"\r\nEnter Password:"
        self.sock.sendall(password + b"\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def pbx() -> PbxState:
    return load_scenario("panasonic-healthy")


@pytest.fixture
def server(pbx: PbxState) -> Iterator[SmdrEndpoint]:
    with serve_smdr(pbx) as endpoint:
        yield endpoint


def test_login_then_buffer_then_live_records(pbx: PbxState, server: SmdrEndpoint) -> None:
    logger = Logger(server)
    logger.login()
    assert logger.read_until(RULE.encode() + b"\r\n") == (
        b"\r\n" + HEADER.encode() + b"\r\n" + RULE.encode() + b"\r\n")
    buffered = sum(not isinstance(item, SystemEvent) for _, item in pbx.smdr_items())
    seen, headers = 0, 0
    while seen < buffered:  # the header is printed again at the top of each 60-line page
        line = logger.read_until(b"\r\n")
        if line.startswith((b"  Date", b"---")):
            headers += 1
            continue
        seen += 1
        assert len(line) == 82 or b" ALM #" in line
    assert headers == 2 * ((buffered - 1) // 60)
    assert server.wait_for_streaming(1, DEADLINE)
    made = CallGenerator(pbx, seed=11).next_call()
    assert made
    for _ in made:
        line = logger.read_until(b"\r\n")
        assert len(line) == 82 and line.endswith(b" \r\n")
    pbx.inject_fault("dead_card", slot=2)
    assert b"MJ ALM #230 00 10200 Card disconnected\r\n" in logger.read_until(b"\r\n")
    logger.close()
    assert server.wait_for_streaming(0, DEADLINE)


def test_wrong_login_asks_again_and_third_failure_closes(server: SmdrEndpoint) -> None:
    logger = Logger(server)
    logger.login(b"ADMIN", b"PCCSMDR")
    assert logger.read_until(b"\r\n-") == b"\r\nLOGIN INCORRECT\r\n-"
    logger.sock.sendall(b"smdr\r")
    logger.read_until(b"Enter Password:")
    logger.sock.sendall(b"wrong\r")
    assert logger.read_until(b"\r\n-") == b"\r\nLOGIN INCORRECT\r\n-"
    logger.sock.sendall(b"SMDR\rwrong\r")
    assert logger.read_to_eof() == b"\r\nEnter Password:\r\nLOGIN INCORRECT\r\n-"


def test_telnet_negotiation_and_noise_are_ignored(server: SmdrEndpoint) -> None:
    logger = Logger(server)
    logger.read_until(b"\r\n-")
    logger.sock.sendall(b"\xff\xfb\x01\xff\xfd\x03\xff\xfa\x18\x01\xff\xf0S\x80MDR\r\n")
    logger.read_until(b"Enter Password:")
    logger.sock.sendall(b"PCCSMDR\r")
    assert RULE.encode() in logger.read_until(RULE.encode())


def test_smdr_link_fault_drops_loggers_and_logs_510(pbx: PbxState,
                                                    server: SmdrEndpoint) -> None:
    streaming = Logger(server)
    streaming.login()
    assert server.wait_for_streaming(1, DEADLINE)
    before = sum(e.code == 510 for e in pbx.error_log())
    pbx.inject_fault("smdr_disconnect")
    streaming.read_to_eof()  # dropped at once
    assert server.wait_for_streaming(0, DEADLINE)
    for _ in range(3):  # the logger keeps retrying: each attempt is dropped and logged
        retry = Logger(server)
        assert retry.read_to_eof() == b""
        retry.close()
    # The PBX logs 510 before it closes the connection, so EOF means it is in the log.
    assert sum(e.code == 510 for e in pbx.error_log()) == before + 4
    pbx.clear_fault("smdr_disconnect")
    again = Logger(server)
    again.login()
    assert server.wait_for_streaming(1, DEADLINE)


def test_a_dead_pbx_does_not_answer() -> None:
    pbx = load_scenario("panasonic-pbx-dead")
    with serve_smdr(pbx) as server:
        logger = Logger(server)
        assert logger.read_to_eof() == b""


def test_rude_clients_do_not_hurt_others(pbx: PbxState, server: SmdrEndpoint) -> None:
    good = Logger(server)
    good.login()
    rude = [Logger(server) for _ in range(4)]
    rude[0].sock.sendall(b"\x00\xff" * 5000)  # binary garbage and a huge line
    rude[1].sock.sendall(b"S" * 100_000 + b"\r")
    rude[2].sock.sendall(b"SM")  # gone mid-login
    rude[2].close()
    rude[3].login()
    rude[3].sock.shutdown(socket.SHUT_WR)  # half-closed once streaming
    for r in rude:
        r.close()
    assert server.wait_for_streaming(1, DEADLINE)
    CallGenerator(pbx, seed=2).next_call(ended=datetime(2026, 11, 27, 12, 0))
    assert b"\r\n" in good.read_until(b"\r\n")


def test_toshiba_records_over_the_same_dialogue() -> None:
    pbx = load_scenario("toshiba-healthy")
    with serve_smdr(pbx) as server:
        logger = Logger(server)
        assert logger.read_until(b"\r\n-") == b"\r\nToshiba CTX670 SMDR\r\n-"
        logger.sock.sendall(b"SMDR\r")
        logger.read_until(b"Enter Password:")
        logger.sock.sendall(b"PCCSMDR\r")
        first = logger.read_until(b"\r\n")
        first += logger.read_until(b"\r\n")
        assert first.startswith(b"\r\nI 001 00 - - ")


def test_close_drops_streaming_clients_and_ends_threads(pbx: PbxState) -> None:
    server = serve_smdr(pbx)
    endpoint = server.__enter__()
    loggers = [Logger(endpoint) for _ in range(5)]
    for logger in loggers:
        logger.login()
    assert endpoint.wait_for_streaming(5, DEADLINE)
    server.__exit__(None, None, None)  # joins its threads (bounded): none is left behind
    assert not [t for t in threading.enumerate() if t.name.startswith("smdr-")]
    assert endpoint.streaming_count == 0
    for logger in loggers:
        logger.read_to_eof()
        logger.close()
