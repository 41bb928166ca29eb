"""The telnet client: a small negotiator of our own (no telnetlib), binary-safe."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from agent.errors import ConnectFailed, LineDropped
from agent.line.telnet_codec import DO, DONT, ECHO, IAC, SB, SE, SGA, WILL, WONT
from agent.line.transports.telnet import TelnetNegotiator, TelnetTransport

TTYPE, NAWS, BINARY, LINEMODE = 24, 31, 0, 34


def test_accepts_echo_and_sga_refuses_the_rest() -> None:
    n = TelnetNegotiator()
    _, reply = n.decode(bytes((IAC, WILL, ECHO, IAC, WILL, SGA, IAC, WILL, BINARY)))
    assert reply == bytes((IAC, DO, ECHO, IAC, DO, SGA, IAC, DONT, BINARY))
    _, reply = n.decode(bytes((IAC, DO, SGA, IAC, DO, TTYPE, IAC, DO, NAWS, IAC, DO, LINEMODE)))
    assert reply == bytes((IAC, WILL, SGA, IAC, WONT, TTYPE, IAC, WONT, NAWS, IAC, WONT,
                           LINEMODE))


def test_no_answer_without_a_change_so_no_loops() -> None:
    n = TelnetNegotiator()
    n.decode(bytes((IAC, WILL, ECHO)))
    assert n.decode(bytes((IAC, WILL, ECHO))) == (b"", b"")
    assert n.decode(bytes((IAC, WONT, ECHO)))[1] == bytes((IAC, DONT, ECHO))
    assert n.decode(bytes((IAC, WONT, ECHO))) == (b"", b"")
    assert n.decode(bytes((IAC, DONT, TTYPE))) == (b"", b"")


def test_decoding_is_binary_safe_at_every_split() -> None:
    stream = (b"A" + bytes((IAC, IAC)) + b"\r\x00B" + bytes((IAC, SB, TTYPE, 1, IAC, IAC, IAC,
                                                              SE, IAC, 241)) + b"\r\nC")
    for cut in range(len(stream) + 1):
        n = TelnetNegotiator()
        assert n.decode(stream[:cut])[0] + n.decode(stream[cut:])[0] == b"A\xff\rB\r\nC", cut


def test_encoding_doubles_iac_and_pads_a_bare_cr() -> None:
    assert TelnetNegotiator.encode(b"\xffX\rY\r\n") == b"\xff\xffX\r\x00Y\r\n"


class FakeServer:
    """A telnet server that says what the test tells it to and records the replies."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        self.accepted = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.conn, _ = self.listener.accept()
        self.accepted.set()

    def send(self, data: bytes) -> None:
        assert self.accepted.wait(5) and self.conn is not None
        self.conn.sendall(data)

    def receive(self, count: int) -> bytes:
        assert self.conn is not None
        self.conn.settimeout(5)
        data = b""
        while len(data) < count:
            data += self.conn.recv(count - len(data))
        return data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


def test_client_negotiates_and_passes_data_both_ways(server: FakeServer) -> None:
    with TelnetTransport(host="127.0.0.1", port=server.port) as line:
        server.send(bytes((IAC, WILL, ECHO, IAC, DO, TTYPE)) + b"Login: \xff\xff")
        assert line.read(100, 5) == b"Login: \xff"
        assert server.receive(6) == bytes((IAC, DO, ECHO, IAC, WONT, TTYPE))
        line.write(b"\xffname\r")
        assert server.receive(8) == b"\xff\xffname\r\x00"
        assert (line.bytes_in, line.bytes_out) == (8, 6)


def test_negotiation_only_is_not_data(server: FakeServer) -> None:
    with TelnetTransport(host="127.0.0.1", port=server.port) as line:
        server.send(bytes((IAC, WILL, SGA)))
        assert line.read(100, 0.2) == b""
        assert server.receive(3) == bytes((IAC, DO, SGA))


def test_server_closing_is_line_dropped(server: FakeServer) -> None:
    with TelnetTransport(host="127.0.0.1", port=server.port) as line:
        assert server.accepted.wait(5) and server.conn is not None
        server.conn.close()
        with pytest.raises(LineDropped, match="closed the telnet session"):
            line.read(100, 5)


def test_refused_connection_is_connect_failed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = TelnetTransport(host="127.0.0.1", port=port, connect_timeout=2)
    with pytest.raises(ConnectFailed, match="cannot connect"):
        line.open()
    line.close()
    with pytest.raises(LineDropped, match="not open"):
        line.read(1, 0)
