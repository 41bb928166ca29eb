"""Telnet line: a TCP socket with RFC 854 option negotiation, binary-safe.

``telnetlib`` is gone from Python 3.13 and the maintained replacement (``telnetlib3``) is
an asyncio framework; a PBX console needs far less, so this is a small negotiator of our
own. The client accepts what a maintenance console uses — the server's ECHO and
SUPPRESS-GO-AHEAD, and its own SGA when asked — and refuses every other option. It
answers only requests that would change an option's state (RFC 1143's rule against
negotiation loops). Data is binary-safe: 0xFF is doubled on the way out and undoubled on
the way in; a CR going out is sent as CR NUL (the NVT rule) unless an LF follows it.
"""

from __future__ import annotations

import contextlib
import enum
import re
import socket
import time

from agent.line.errors import ConnectFailed, LineDropped
from agent.line.transports.base import Transport

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA = 1, 3
CR, NUL = 13, 0
_BARE_CR = re.compile(rb"\r(?!\n)")


class _Parse(enum.Enum):
    DATA = enum.auto()
    IAC = enum.auto()
    OPTION = enum.auto()
    SB = enum.auto()
    SB_IAC = enum.auto()


class TelnetNegotiator:
    """Client side of the option negotiation; pure (no socket), so it is testable alone."""

    SERVER_MAY = frozenset({ECHO, SGA})  # server WILL x -> we answer DO x
    CLIENT_WILL = frozenset({SGA})  # server DO x -> we answer WILL x

    def __init__(self) -> None:
        self.server_options: dict[int, bool] = {}
        self.client_options: dict[int, bool] = {}
        self._state = _Parse.DATA
        self._verb = 0
        self._after_cr = False

    @staticmethod
    def encode(data: bytes) -> bytes:
        return _BARE_CR.sub(b"\r\x00", data.replace(b"\xff", b"\xff\xff"))

    def decode(self, raw: bytes) -> tuple[bytes, bytes]:
        """(data for the console, replies to send to the server)."""
        data = bytearray()
        reply = bytearray()
        for byte in raw:
            state = self._state
            if state is _Parse.DATA:
                if byte == IAC:
                    self._state = _Parse.IAC
                    continue
                if not (self._after_cr and byte == NUL):
                    data.append(byte)
                self._after_cr = byte == CR
            elif state is _Parse.IAC:
                self._command(byte, data)
            elif state is _Parse.OPTION:
                self._state = _Parse.DATA
                reply += self._negotiate(self._verb, byte)
            elif state is _Parse.SB:
                if byte == IAC:
                    self._state = _Parse.SB_IAC
            else:
                self._state = _Parse.DATA if byte == SE else _Parse.SB
        return bytes(data), bytes(reply)

    def _command(self, byte: int, data: bytearray) -> None:
        if byte == IAC:
            data.append(IAC)
            self._after_cr = False
            self._state = _Parse.DATA
        elif byte in (DO, DONT, WILL, WONT):
            self._verb = byte
            self._state = _Parse.OPTION
        elif byte == SB:
            self._state = _Parse.SB
        else:  # NOP, GA, DM, ...
            self._state = _Parse.DATA

    def _negotiate(self, verb: int, option: int) -> bytes:
        if verb in (WILL, WONT):
            return self._answer(self.server_options, self.SERVER_MAY, option,
                                enable=verb == WILL, yes=DO, no=DONT)
        return self._answer(self.client_options, self.CLIENT_WILL, option,
                            enable=verb == DO, yes=WILL, no=WONT)

    @staticmethod
    def _answer(options: dict[int, bool], allowed: frozenset[int], option: int, *,
                enable: bool, yes: int, no: int) -> bytes:
        if enable and option not in allowed:
            return bytes((IAC, no, option))  # refused: not needed by a console
        if options.get(option, False) == enable:
            return b""  # no change: answering would start a loop
        options[option] = enable
        return bytes((IAC, yes if enable else no, option))


class TelnetTransport(Transport):
    def __init__(self, *, host: str, port: int = 23, connect_timeout: float = 10.0) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.negotiator = TelnetNegotiator()
        self._sock: socket.socket | None = None

    @property
    def display_url(self) -> str:
        return f"telnet://{self.host}:{self.port}"

    def open(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as err:
            raise ConnectFailed(f"cannot connect to {self.display_url}: {err.strerror or err}") \
                from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def _read(self, max_bytes: int, timeout: float) -> bytes:
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
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
