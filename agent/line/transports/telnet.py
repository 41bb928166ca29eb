"""Telnet line: a TCP socket with RFC 854 option negotiation, binary-safe.

``telnetlib`` is gone from Python 3.13 and the maintained replacement (``telnetlib3``) is
an asyncio framework; a PBX console needs far less, so this is a small negotiator of our
own. The client accepts what a maintenance console uses — the server's ECHO and
SUPPRESS-GO-AHEAD, and its own SGA when asked — and refuses every other option. It
answers only requests that would change an option's state (RFC 1143's rule against
negotiation loops). Data is binary-safe: 0xFF is doubled on the way out and undoubled on
the way in; a CR going out is sent as CR NUL (the NVT rule) unless an LF follows it.
The wire format itself is ``agent.line.telnet_codec``, shared with the simulator's server.

A terminal server's telnet port in front of a serial console shows nothing until a key
is pressed: the ``wake`` options (``wake.py``). A PBX's own telnet port prints its banner
unasked, so by default nothing is sent.
"""

from __future__ import annotations

import contextlib
import socket
import time

from agent.line.errors import LineDropped
from agent.line.telnet_codec import DO, DONT, ECHO, SGA, WILL, WONT, TelnetCodec, answer
from agent.line.transports.base import Transport
from agent.line.transports.connect import open_tcp_socket
from agent.line.transports.options import LineRequest
from agent.line.transports.wake import Wake, press, wake_option


class TelnetNegotiator(TelnetCodec):
    """Client side of the option negotiation; pure (no socket), so it is testable alone."""

    SERVER_MAY = frozenset({ECHO, SGA})  # server WILL x -> we answer DO x
    CLIENT_WILL = frozenset({SGA})  # server DO x -> we answer WILL x

    def __init__(self) -> None:
        super().__init__()
        self.server_options: dict[int, bool] = {}
        self.client_options: dict[int, bool] = {}

    def _negotiate(self, verb: int, option: int) -> bytes:
        if verb in (WILL, WONT):
            return answer(self.server_options, self.SERVER_MAY, option,
                          enable=verb == WILL, yes=DO, no=DONT)
        return answer(self.client_options, self.CLIENT_WILL, option,
                      enable=verb == DO, yes=WILL, no=WONT)


class TelnetTransport(Transport):
    def __init__(self, *, host: str, port: int = 23, connect_timeout: float = 10.0,
                 wake: Wake | None = None) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.wake = wake
        self.negotiator = TelnetNegotiator()
        self._sock: socket.socket | None = None
        self._pending = b""  # what arrived while waking the console, for the first read

    @property
    def display_url(self) -> str:
        return f"telnet://{self.host}:{self.port}"

    def open(self) -> None:
        self._sock = open_tcp_socket(self.host, self.port, timeout=self.connect_timeout,
                                     shown=self.display_url)
        if self.wake is not None:
            try:
                self._wake(self.wake)
            except BaseException:
                self.close()
                raise

    def _wake(self, wake: Wake) -> None:
        self._pending = press(wake, self.write, self._read)

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
            return data
        sock = self._require()
        deadline = time.monotonic() + timeout
        while True:
            sock.settimeout(max(0.0, deadline - time.monotonic()))
            try:
                raw = sock.recv(max_bytes)
            except (TimeoutError, BlockingIOError):
                return b""
            except OSError as err:
                raise LineDropped(f"telnet line to {self.display_url} dropped: {err}") from None
            if not raw:
                raise LineDropped(f"the PBX closed the telnet session on {self.display_url}")
            data, reply = self.negotiator.decode(raw)
            if reply:
                self._send(sock, reply)
            if data:
                return data

    def _write(self, data: bytes) -> None:
        self._send(self._require(), TelnetNegotiator.encode(data))

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.settimeout(self.connect_timeout)  # a peer that stops reading must not hang us
        try:
            sock.sendall(data)
        except OSError as err:
            raise LineDropped(f"telnet line to {self.display_url} dropped: {err}") from None

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise LineDropped(f"telnet session to {self.display_url} is not open")
        return self._sock

    def close(self) -> None:
        self._pending = b""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def from_url(line: LineRequest) -> Transport:
    """``telnet://host[:port][?wake=%0D&wake_tries=3&wake_interval=2]``, port 23 by default."""
    host, port = line.host_port(23)
    return TelnetTransport(host=host, port=port, connect_timeout=line.connect_timeout,
                           wake=wake_option(line.options))
