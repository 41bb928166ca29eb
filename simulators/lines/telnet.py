"""A PBX console over TCP: telnet (RFC 854 option negotiation) or a raw socket.

Telnet is how a terminal server or the PBX's LAN card presents the maintenance console.
The server offers what a console needs — it WILL ECHO (the PBX echoes) and WILL
SUPPRESS-GO-AHEAD (full duplex) — accepts the client's SGA, and refuses every other
option. Negotiation follows the RFC 1143 rule that keeps both ends out of loops: answer
only a request that would change an option's state. Data is binary-safe: 0xFF is doubled
both ways. The wire format is the client's own (``agent.line.telnet_codec``), so the two
ends cannot drift apart. The raw variant (``serve_tcp``) is a terminal server's "raw TCP"
port: bytes only, no negotiation — what pyserial's ``socket://`` (our ``tcp://``) expects.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from agent.line.telnet_codec import DO, DONT, ECHO, IAC, SGA, WILL, WONT, TelnetCodec, answer
from simulators.lines.conditions import LineConditions, LineStats
from simulators.lines.pump import LineGroup, LineHandler
from simulators.lines.session import DEFAULT_USERNAME, SessionMaker, login_session_maker
from simulators.lines.wires import SocketWire
from simulators.ssh_server import ConsoleSession
from simulators.state import PbxState

log = logging.getLogger(__name__)


class TelnetServerCodec(TelnetCodec):
    """Server side of RFC 854: the shared wire format, with the server's own answers."""

    #: Options the server performs (WILL) and options it lets the client perform (DO).
    OURS = frozenset({ECHO, SGA})
    THEIRS = frozenset({SGA})

    def __init__(self) -> None:
        super().__init__()
        self.ours: dict[int, bool] = {}  # option -> enabled (server side)
        self.theirs: dict[int, bool] = {}  # option -> enabled (client side)
        self._offered: set[int] = set()  # WILL sent, DO/DONT not yet received

    def opening(self) -> bytes:
        """What the server says first: it will echo and suppress go-ahead."""
        self._offered |= self.OURS
        return bytes((IAC, WILL, ECHO, IAC, WILL, SGA))

    def _negotiate(self, verb: int, option: int) -> bytes:
        if verb in (DO, DONT):
            return self._ours(option, enable=verb == DO)
        return answer(self.theirs, self.THEIRS, option, enable=verb == WILL, yes=DO, no=DONT)

    def _ours(self, option: int, *, enable: bool) -> bytes:
        """Like ``answer``, but a DO/DONT that answers our own WILL gets no reply."""
        was_offered = option in self._offered
        self._offered.discard(option)
        if enable and option not in self.OURS:
            return bytes((IAC, WONT, option))
        if enable == self.ours.get(option, False) and not was_offered:
            return b""  # already in that state: answering would start a loop
        self.ours[option] = enable
        if was_offered:
            return b""  # the client's DO/DONT answers our WILL
        return bytes((IAC, WILL if enable else WONT, option))


class TcpConsole(LineHandler):
    """One TCP connection carrying one console session (telnet or raw)."""

    def __init__(self, make_session: SessionMaker, conditions: LineConditions,
                 telnet: bool) -> None:
        self._make_session = make_session
        self._conditions = conditions
        self._codec = TelnetServerCodec() if telnet else None
        self._session: ConsoleSession | None = None

    def on_connect(self) -> None:
        self.pump.begin_call(self._conditions)
        if self._codec is not None:
            self.pump.send_line(self._codec.opening())
            self._start_session()
        # Raw TCP is a terminal server in front of a serial console: the console wakes on
        # the first byte (which is not part of the login), exactly as on the serial line.

    def _start_session(self) -> None:
        self._session = self._make_session(self._from_pbx)
        self._session.start()
        self._check_closed()

    def _from_pbx(self, data: bytes) -> None:
        data = self.pump.noisy_to_client(data)
        self.pump.send_line(data if self._codec is None else self._codec.encode(data))

    def on_data(self, data: bytes) -> None:
        if self._codec is not None:
            data, reply = self._codec.decode(data)
            if reply:
                self.pump.send_line(reply)
        if not data:
            return
        if self._session is None:
            self._start_session()
        else:
            self._session.feed(self.pump.noisy_to_pbx(data))
            self._check_closed()

    def _check_closed(self) -> None:
        if self._session is not None and self._session.closed:
            self.pump.finish()  # BYE (or the third failed login) goes out, then the socket

    def on_hangup(self) -> None:
        self.pump.abort()

    def on_carrier_lost(self) -> None:
        self.pump.abort()

    def on_close(self) -> None:
        if self._session is not None:
            self._session.close()


@dataclass(frozen=True, slots=True)
class TcpOptions:
    make_session: SessionMaker
    conditions: LineConditions
    telnet: bool


class TcpEndpoint:
    """A listening console port; each connection gets its own line thread."""

    def __init__(self, listener: socket.socket, options: TcpOptions) -> None:
        self.host, self.port = listener.getsockname()[:2]
        self.kind = "telnet" if options.telnet else "tcp"
        self._listener = listener
        self._options = options
        self.lines = LineGroup()
        self._accept_thread = threading.Thread(target=self._accept_loop,
                                               name=f"{self.kind}-accept-{self.port}",
                                               daemon=True)
        self._accept_thread.start()

    @property
    def url(self) -> str:
        return f"{self.kind}://{self.host}:{self.port}"

    @property
    def stats(self) -> LineStats:
        return self.lines.stats

    @property
    def connection_count(self) -> int:
        return self.lines.count

    def wait_for_connections(self, count: int, timeout: float) -> bool:
        return self.lines.wait_for_count(count, timeout)

    def _accept_loop(self) -> None:
        while True:
            ready, _, _ = select.select([self._listener.fileno(), self.lines.stop_r], [], [])
            if self.lines.stop_r in ready:
                return
            try:
                sock, peer = self._listener.accept()
            except OSError:  # the client gave up between select() and accept()
                continue
            handler = TcpConsole(self._options.make_session, self._options.conditions,
                                 self._options.telnet)
            self.lines.spawn(SocketWire(sock), handler, connected=True,
                             name=f"{self.kind}-{self.port}-{peer[1]}")

    def close(self) -> None:
        """Stop accepting, drop every connection, wait (bounded) for the threads."""
        if self.lines.stopping:
            return
        self.lines.stop(self._accept_thread)
        self._listener.close()


def start_tcp_server(pbx: PbxState, *, host: str = "127.0.0.1", port: int = 0,
                     username: str = DEFAULT_USERNAME, password: str,
                     conditions: LineConditions | None = None, telnet: bool = True,
                     session_maker: SessionMaker | None = None) -> TcpEndpoint:
    """Serve ``pbx``'s console on a TCP port; the caller must ``close()`` the endpoint."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=128)
    listener.setblocking(False)
    options = TcpOptions(
        make_session=session_maker or login_session_maker(pbx, username=username,
                                                          password=password),
        conditions=conditions or LineConditions(), telnet=telnet)
    try:
        return TcpEndpoint(listener, options)
    except BaseException:
        listener.close()
        raise


@contextlib.contextmanager
def serve_telnet(pbx: PbxState, *, host: str = "127.0.0.1", port: int = 0,
                 username: str = DEFAULT_USERNAME, password: str,
                 conditions: LineConditions | None = None,
                 session_maker: SessionMaker | None = None) -> Iterator[TcpEndpoint]:
    """Serve ``pbx`` over telnet (with the login dialogue) for the ``with`` block."""
    endpoint = start_tcp_server(pbx, host=host, port=port, username=username,
                                password=password, conditions=conditions, telnet=True,
                                session_maker=session_maker)
    try:
        yield endpoint
    finally:
        endpoint.close()


@contextlib.contextmanager
def serve_tcp(pbx: PbxState, *, host: str = "127.0.0.1", port: int = 0,
              username: str = DEFAULT_USERNAME, password: str,
              conditions: LineConditions | None = None,
              session_maker: SessionMaker | None = None) -> Iterator[TcpEndpoint]:
    """Serve ``pbx`` on a raw TCP port (a terminal server's raw mode) for the block."""
    endpoint = start_tcp_server(pbx, host=host, port=port, username=username,
                                password=password, conditions=conditions, telnet=False,
                                session_maker=session_maker)
    try:
        yield endpoint
    finally:
        endpoint.close()
