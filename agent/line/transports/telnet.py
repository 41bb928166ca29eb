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
is pressed, so the ``wake`` option (``wake=%0D``) is sent once connected, and again every
``wake_interval`` seconds while the line stays silent, at most ``wake_tries`` times — then
the login dialogue waits as usual (its timeout makes the runner try the next path). What
arrives is kept for the first read, so no banner is lost. A PBX's own telnet port prints
its banner unasked: by default nothing is sent.
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

from agent.line.errors import InputError, LineDropped
from agent.line.telnet_codec import DO, DONT, ECHO, SGA, WILL, WONT, TelnetCodec, answer
from agent.line.transports.base import Transport
from agent.line.transports.connect import open_tcp_socket
from agent.line.transports.options import LineRequest

DEFAULT_WAKE_TRIES = 3
DEFAULT_WAKE_INTERVAL = 2.0  # seconds of silence before the key is pressed again
MAX_WAKE_TRIES = 20
_READ_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class Wake:
    """The key that wakes a console behind a terminal server, and how often to press it."""

    data: bytes
    tries: int = DEFAULT_WAKE_TRIES
    interval: float = DEFAULT_WAKE_INTERVAL


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
        """Press the key until the console says anything, a bounded number of times."""
        for _ in range(wake.tries):
            self.write(wake.data)
            self._pending = self._read(_READ_CHUNK, wake.interval)
            if self._pending:
                return

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
    opts = line.options
    host, port = line.host_port(23)
    key = opts.text("wake")
    tries = opts.integer("wake_tries", DEFAULT_WAKE_TRIES, minimum=1)
    interval = opts.number("wake_interval", DEFAULT_WAKE_INTERVAL, minimum=0.1)
    if tries > MAX_WAKE_TRIES:
        raise InputError(f"option wake_tries={tries} in {opts.url}: at most {MAX_WAKE_TRIES}")
    wake = Wake(key.encode("latin-1", errors="replace"), tries, interval) if key else None
    return TelnetTransport(host=host, port=port, connect_timeout=line.connect_timeout,
                           wake=wake)
