"""SMDR over the LAN, the way a Panasonic PBX serves it to a call logger.

The PBX prints a banner ending in ``-``, the logger sends the user ``SMDR``, the PBX asks
``Enter Password:``, then prints the SMDR buffer and every new record as it happens.
Nothing here sleeps or polls: each client's thread waits on the state's SMDR condition,
which is notified by new records, by faults, by the client leaving and by shutdown.
While the ``smdr_disconnect`` fault is active the PBX drops every logger (logging 510).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator

from simulators.listener import Listener, open_listener
from simulators.models import EVENTS, TOSHIBA
from simulators.panasonic import smdr as panasonic_smdr
from simulators.records import Level, SmdrItem, sub_code
from simulators.state import PbxState
from simulators.toshiba import smdr as toshiba_smdr

log = logging.getLogger(__name__)

SMDR_USER = "SMDR"
DEFAULT_PASSWORD = "PCCSMDR"  # noqa: S105 - the PBX's published factory default
LOGIN_TIMEOUT = 30.0  # seconds to complete the login dialogue
SEND_TIMEOUT = 10.0  # a logger that stops reading for this long is dropped
RECHECK = 5.0  # belt and braces: a waiting stream re-checks its exits at least this often
MAX_LOGIN_ATTEMPTS = 3
MAX_INPUT = 256
PAGE_LENGTH = 60  # record lines per page; the header is printed again at each page
CRLF = b"\r\n"
IAC, SB, SE = 0xFF, 0xFA, 0xF0
OPTION_VERBS = range(0xFB, 0xFF)  # WILL WONT DO DONT


class _Gone(Exception):
    """The client left, timed out, or the server is stopping."""


class _Client:
    """One logger connection: its socket and whether it is still there."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.gone = threading.Event()
        self._pending = bytearray()
        self._state = "text"  # the telnet-command filter: text, iac, option, sub, sub-iac

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            self.gone.set()
            raise _Gone from None

    def read_line(self, deadline: float) -> str:
        """A line typed by the client (telnet commands and 8-bit bytes dropped)."""
        while True:
            line = self._take_line()
            if line is not None:
                return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Gone
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1024)
            except OSError:
                raise _Gone from None
            if not data:
                raise _Gone
            self._absorb(data)

    def _absorb(self, data: bytes) -> None:
        for byte in data:
            if self._telnet(byte) and (len(self._pending) < MAX_INPUT or byte in (0x0D, 0x0A)):
                self._pending.append(byte)

    def _telnet(self, byte: int) -> bool:
        """Step the telnet-command filter; True if ``byte`` is text to keep (7-bit only)."""
        state = self._state
        if state == "text":
            if byte == IAC:
                self._state = "iac"
            return byte < 0x80
        if state == "iac":
            self._state = ("option" if byte in OPTION_VERBS else "sub" if byte == SB
                           else "text")
        elif state == "option":
            self._state = "text"
        elif state == "sub":
            self._state = "sub-iac" if byte == IAC else "sub"
        else:  # "sub-iac"
            self._state = "text" if byte == SE else "sub"
        return False

    def _take_line(self) -> str | None:
        for i, byte in enumerate(self._pending):
            if byte in (0x0D, 0x0A):
                text = bytes(self._pending[:i]).decode("ascii", "replace")
                rest = self._pending[i + 1:]
                if byte == 0x0D and bytes(rest[:1]) in (b"\n", b"\x00"):
                    rest = rest[1:]
                self._pending = bytearray(rest)
                return text.strip()
        return None


class SmdrEndpoint:
    """A running SMDR server: where it listens, how many loggers stream, how to stop it."""

    def __init__(self, listener: socket.socket, pbx: PbxState, username: str,
                 password: str) -> None:
        self._listener = Listener(listener, kind="smdr", on_accept=self._accepted)
        self.host, self.port = self._listener.host, self._listener.port
        self._pbx = pbx
        self._username = username
        self._password = password
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._clients: set[_Client] = set()
        self._streaming = 0
        self._listener.start()

    @property
    def streaming_count(self) -> int:
        with self._lock:
            return self._streaming

    def wait_for_streaming(self, count: int, timeout: float) -> bool:
        """Wait until exactly ``count`` loggers are logged in and streaming."""
        with self._changed:
            return self._changed.wait_for(lambda: self._streaming == count, timeout)

    def close(self) -> None:
        """Stop accepting, drop every logger, and wait (bounded) for the threads."""
        self._listener.close(self._drop_clients)

    def _drop_clients(self) -> None:
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            _shut(client)
        self._pbx.notify_smdr()

    # --- threads --------------------------------------------------------------------------

    def _accepted(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._listener.spawn(self._serve, _Client(sock), name=f"smdr-client-{peer[1]}")

    def _serve(self, client: _Client) -> None:
        with self._lock:
            if self._listener.stopping:
                client.sock.close()
                return
            self._clients.add(client)
        try:
            if self._refused():
                return
            self._login(client)
            self._stream(client)
        except _Gone:
            pass
        finally:
            _shut(client)
            client.sock.close()
            with self._lock:
                self._clients.discard(client)

    def _refused(self) -> bool:
        """A dead PBX does not answer; with the SMDR link fault the PBX drops the logger."""
        if not self._pbx.responding:
            return True
        if self._pbx.has_fault("smdr_disconnect"):
            self._pbx.log_error(Level.MN, 510, sub_code(1), EVENTS[510].message)
            return True
        return False

    def _login(self, client: _Client) -> None:
        deadline = time.monotonic() + LOGIN_TIMEOUT
        banner = f"{self._pbx.system.vendor} {self._pbx.system.model} SMDR"
        client.send(CRLF + banner.encode("ascii", "replace") + CRLF + b"-")
        for _ in range(MAX_LOGIN_ATTEMPTS):
            user = client.read_line(deadline)
            client.send(CRLF + b"Enter Password:")
            password = client.read_line(deadline)
            if user.upper() == self._username and password == self._password:
                client.send(CRLF)
                return
            client.send(CRLF + b"LOGIN INCORRECT" + CRLF + b"-")
        raise _Gone

    def _stream(self, client: _Client) -> None:
        client.sock.settimeout(SEND_TIMEOUT)
        self._listener.spawn(_watch_for_eof, client, self._pbx, name="smdr-eof")
        with self._changed:
            self._streaming += 1
            self._changed.notify_all()
        try:
            self._stream_items(client)
        finally:
            with self._changed:
                self._streaming -= 1
                self._changed.notify_all()

    def _stream_items(self, client: _Client) -> None:
        pbx = self._pbx
        page = SmdrPager(pbx)

        def leave() -> bool:
            return (client.gone.is_set() or self._listener.stopping or not pbx.responding
                    or pbx.has_fault("smdr_disconnect"))

        after = 0
        while True:
            items = pbx.wait_smdr(after, RECHECK, stop=leave)
            if leave():
                return
            for seq, item in items:
                client.send(page.render(item))
                after = seq


class SmdrPager:
    """Vendor lines for SMDR items in the PBX's layout, with Panasonic's page header at
    the top of each page."""

    def __init__(self, pbx: PbxState) -> None:
        self._panasonic = pbx.system.vendor != TOSHIBA
        self._format = pbx.smdr_format
        self._unsupervised = frozenset(c.number for c in pbx.co_lines() if c.kind == "LCOT")
        self._lines = 0

    def render(self, item: SmdrItem) -> bytes:
        if self._panasonic:
            text = panasonic_smdr.format_item(item, self._format)
            lines = [text] if text is not None else []
        else:
            lines = toshiba_smdr.item_lines(item, self._format, self._unsupervised)
        out = []
        for line in lines:
            if self._panasonic and self._lines % PAGE_LENGTH == 0:
                out += panasonic_smdr.header(self._format)
            self._lines += 1
            out.append(line)
        return b"".join(line.encode("ascii", "replace") + CRLF for line in out)


def _watch_for_eof(client: _Client, pbx: PbxState) -> None:
    """Block on the socket until the logger leaves, then wake its streaming thread."""
    with contextlib.suppress(OSError):
        while not client.gone.is_set():
            ready, _, _ = select.select([client.sock], [], [], RECHECK)
            if ready and not client.sock.recv(1024):
                break
    client.gone.set()
    pbx.notify_smdr()


def _shut(client: _Client) -> None:
    client.gone.set()
    with contextlib.suppress(OSError):
        client.sock.shutdown(socket.SHUT_RDWR)


def start_smdr_server(pbx: PbxState, *, host: str = "127.0.0.1", port: int = 0,
                      username: str = SMDR_USER,
                      password: str = DEFAULT_PASSWORD) -> SmdrEndpoint:
    """Start serving ``pbx``'s SMDR; the caller must ``close()`` the endpoint."""
    listener = open_listener(host, port, backlog=64)
    try:
        return SmdrEndpoint(listener, pbx, username.upper(), password)
    except BaseException:
        listener.close()
        raise


@contextlib.contextmanager
def serve_smdr(pbx: PbxState, *, host: str = "127.0.0.1", port: int = 0,
               username: str = SMDR_USER,
               password: str = DEFAULT_PASSWORD) -> Iterator[SmdrEndpoint]:
    """Serve ``pbx``'s SMDR over TCP for the duration of the ``with`` block."""
    endpoint = start_smdr_server(pbx, host=host, port=port, username=username,
                                 password=password)
    try:
        yield endpoint
    finally:
        endpoint.close()
