"""A real SSH server (paramiko) in front of a simulated PBX console.

Each shell channel gets its own console session in its own thread, so many engineers (or
one fleet run) can be logged in at once, and a client that vanishes or talks garbage only
ends its own connection. Every wait is on a socket, an event or a deadline: shutdown
wakes the accept loop through a socket pair and closes every transport, so it is quick.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)
from paramiko.server import InteractiveQuery

from simulators.listener import Listener, open_listener
from simulators.sessions import session_for
from simulators.state import PbxState

log = logging.getLogger(__name__)
#: paramiko's own log for the server side: a client hanging up without a goodbye is
#: ordinary for a simulator (tests, benchmarks, the demo) and must not print as an error.
PARAMIKO_LOG = f"{__name__}.paramiko"
logging.getLogger(PARAMIKO_LOG).setLevel(logging.CRITICAL)

SHELL_REQUEST_TIMEOUT = 10.0  # seconds a client may take between opening a channel and "shell"
HANDSHAKE_TIMEOUT = 15.0
LOGIN_GRACE_TIME = 60.0  # like sshd's LoginGraceTime: authenticate and open a channel by then


class ConsoleSession(Protocol):
    """What a transport needs from a vendor console session (see ``sessions.session_for``)."""

    @property
    def closed(self) -> bool: ...

    def start(self) -> None: ...

    def feed(self, data: bytes) -> None: ...

    def close(self) -> None: ...


SessionFactory = Callable[[Callable[[bytes], None]], ConsoleSession]


# --- host key -----------------------------------------------------------------------------


def load_or_create_host_key(path: Path) -> paramiko.PKey:
    """The server's persistent host key: loaded if present, else created with mode 0600.

    paramiko 5 can load but not generate or write Ed25519 keys, so the key is generated
    and written in OpenSSH format by ``cryptography`` (paramiko's own dependency). The
    file is created under a temporary name and hard-linked into place, so two servers
    starting at once never overwrite each other's key.
    """
    if not path.exists():
        _write_new_ed25519_key(path)
    return paramiko.PKey.from_path(path)


def _write_new_ed25519_key(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hostkey-")  # mkstemp uses 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


# --- authentication and channel requests --------------------------------------------------


class _Server(paramiko.ServerInterface):
    """One per connection: checks the password, accepts pty + shell, nothing else."""

    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password
        self._pending_user = ""
        self._lock = threading.Lock()
        self._shells: dict[int, threading.Event] = {}

    def shell_event(self, chanid: int) -> threading.Event:
        with self._lock:
            return self._shells.setdefault(chanid, threading.Event())

    def wake_all(self) -> None:
        """The connection is gone: stop every channel thread still waiting for "shell"."""
        with self._lock:
            for event in self._shells.values():
                event.set()

    def _good(self, username: str, password: str) -> bool:
        return (hmac.compare_digest(username.encode(), self._username.encode())
                and hmac.compare_digest(password.encode(), self._password.encode()))

    def get_allowed_auths(self, username: str) -> str:
        return "password,keyboard-interactive"

    def check_auth_password(self, username: str, password: str) -> int:
        return AUTH_SUCCESSFUL if self._good(username, password) else AUTH_FAILED

    def check_auth_interactive(self, username: str,
                               submethods: str) -> int | InteractiveQuery:
        self._pending_user = username
        query = InteractiveQuery("", "")
        query.add_prompt("Password: ", echo=False)
        return query

    def check_auth_interactive_response(self,
                                        responses: list[str]) -> int | InteractiveQuery:
        ok = len(responses) == 1 and self._good(self._pending_user, responses[0])
        return AUTH_SUCCESSFUL if ok else AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(  # noqa: PLR0917 (paramiko's signature)
            self, channel: paramiko.Channel, term: bytes, width: int, height: int,
            pixelwidth: int, pixelheight: int, modes: bytes) -> bool:
        return True

    def check_channel_window_change_request(self, channel: paramiko.Channel, width: int,
                                            height: int, pixelwidth: int,
                                            pixelheight: int) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell_event(channel.get_id()).set()
        return True


# --- the server ---------------------------------------------------------------------------


class SshEndpoint:
    """A running server: where it listens, its host key, and how to stop it."""

    def __init__(self, listener: socket.socket, host_key: paramiko.PKey,
                 make_session: SessionFactory, username: str, password: str, *,
                 drop_after_bytes: int | None = None) -> None:
        self._listener = Listener(listener, kind="ssh", on_accept=self._accepted)
        self.host, self.port = self._listener.host, self._listener.port
        #: The network goes away after this many bytes to the client on a channel (an SSH
        #: line cannot be noisy — it is integrity-protected — but it can be cut).
        self.drop_after_bytes = drop_after_bytes
        self.host_key = host_key
        self._make_session = make_session
        self._username = username
        self._password = password
        self._lock = threading.Lock()
        self._connections_changed = threading.Condition(self._lock)
        self._transports: set[paramiko.Transport] = set()
        self._listener.start()

    def known_hosts_line(self) -> str:
        """This server's entry for an OpenSSH known_hosts file."""
        where = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        return f"{where} {self.host_key.get_name()} {self.host_key.get_base64()}"

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._transports)

    def wait_for_connections(self, count: int, timeout: float) -> bool:
        """Wait until exactly ``count`` SSH connections are open; False at the deadline."""
        with self._connections_changed:
            return self._connections_changed.wait_for(lambda: len(self._transports) == count,
                                                      timeout)

    def close(self) -> None:
        """Stop accepting, drop every connection, and wait (bounded) for the threads."""
        self._listener.close(self._drop_connections)

    def _drop_connections(self) -> None:
        with self._lock:
            transports = list(self._transports)
        for transport in transports:
            transport.close()
            _wake_accept(transport)

    # --- threads --------------------------------------------------------------------------

    def _accepted(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._listener.spawn(self._serve_connection, sock, name=f"ssh-conn-{peer[1]}")

    def _serve_connection(self, sock: socket.socket) -> None:
        try:
            transport = paramiko.Transport(sock)
            transport.set_log_channel(PARAMIKO_LOG)
        except (paramiko.SSHException, OSError) as exc:
            log.debug("ssh connection refused: %s", exc)
            sock.close()
            return
        transport.handshake_timeout = HANDSHAKE_TIMEOUT
        with self._lock:
            if self._listener.stopping:
                sock.close()
                return
            self._transports.add(transport)
            self._connections_changed.notify_all()
        server = _Server(self._username, self._password)
        try:
            transport.add_server_key(self.host_key)
            transport.start_server(server=server)
            deadline: float | None = time.monotonic() + LOGIN_GRACE_TIME
            while (channel := _next_channel(transport, deadline)) is not None:
                deadline = None  # logged in: the session may stay as long as it likes
                self._listener.spawn(self._serve_channel, channel, server,
                            name=f"ssh-chan-{channel.get_id()}")
        except (paramiko.SSHException, OSError, EOFError) as exc:
            log.debug("ssh connection ended: %s", exc)
        finally:
            transport.close()  # a no-op if negotiation never started: close the socket too
            sock.close()
            _wake_accept(transport)
            server.wake_all()
            with self._lock:
                self._transports.discard(transport)
                self._connections_changed.notify_all()

    def _sender(self, channel: paramiko.Channel) -> Callable[[bytes], None]:
        if self.drop_after_bytes is None:
            return channel.sendall
        return _cut_after(channel, self.drop_after_bytes)

    def _serve_channel(self, channel: paramiko.Channel, server: _Server) -> None:
        shell = server.shell_event(channel.get_id()).wait(SHELL_REQUEST_TIMEOUT)
        if not shell or channel.closed or self._listener.stopping:
            channel.close()
            return
        session = self._make_session(self._sender(channel))
        try:
            session.start()
            while not session.closed:
                data = channel.recv(4096)
                if not data:
                    break
                session.feed(data)
            channel.send_exit_status(0)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            log.debug("ssh channel ended: %s", exc)
        finally:
            session.close()
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                channel.close()  # the client may already be gone: nothing left to tell it


def _cut_after(channel: paramiko.Channel, limit: int) -> Callable[[bytes], None]:
    """``sendall`` until ``limit`` bytes have gone, then the TCP connection is cut."""
    sent = 0

    def send(data: bytes) -> None:
        nonlocal sent
        room = limit - sent
        sent += len(data)
        if room >= len(data):
            channel.sendall(data)
            return
        if room > 0:
            channel.sendall(data[:room])
        transport = channel.get_transport()
        if transport is not None:
            # No SSH goodbye: the line is simply gone. shutdown (not close) so paramiko's
            # reader thread sees an end of stream rather than a dead file descriptor.
            with contextlib.suppress(OSError):
                transport.sock.shutdown(socket.SHUT_RDWR)
        raise EOFError("line cut (drop_after_bytes)")

    return send


def _next_channel(transport: paramiko.Transport,
                  deadline: float | None) -> paramiko.Channel | None:
    """The next channel the client opens; None once the transport is dead or at the deadline.

    ``Transport.accept`` can miss the end of a transport (``close()`` does not notify its
    condition) and would need a polling timeout; checking liveness under the condition's
    lock, and notifying after every ``close()``, loses no wake-up.
    """
    with transport.server_accept_cv:
        while not transport.server_accepts:
            remaining = None if deadline is None else deadline - time.monotonic()
            if not transport.is_active() or (remaining is not None and remaining <= 0):
                return None
            transport.server_accept_cv.wait(remaining)
        return transport.server_accepts.pop(0)


def _wake_accept(transport: paramiko.Transport) -> None:
    """After ``transport.close()``: wake ``_next_channel`` so it sees the transport is dead."""
    with transport.server_accept_cv:
        transport.server_accept_cv.notify_all()


def start_ssh_server(pbx: PbxState, *, host: str = "127.0.0.1", port: int = 0,
                     host_key_path: Path, username: str = "INSTALLER", password: str,
                     session_factory: SessionFactory | None = None,
                     drop_after_bytes: int | None = None) -> SshEndpoint:
    """Start serving ``pbx`` over SSH; the caller must ``close()`` the endpoint."""
    host_key = load_or_create_host_key(host_key_path)

    def vendor_dialect(send: Callable[[bytes], None]) -> ConsoleSession:
        return session_for(pbx, login_required=False, send=send, username=username,
                           password=password)

    listener = open_listener(host, port, backlog=64)
    try:
        return SshEndpoint(listener, host_key, session_factory or vendor_dialect, username,
                           password, drop_after_bytes=drop_after_bytes)
    except BaseException:
        listener.close()
        raise


@contextlib.contextmanager
def serve_ssh(pbx: PbxState, *, host: str = "127.0.0.1", port: int = 0,
              host_key_path: Path, username: str = "INSTALLER", password: str,
              session_factory: SessionFactory | None = None,
              drop_after_bytes: int | None = None) -> Iterator[SshEndpoint]:
    """Serve ``pbx`` over SSH for the duration of the ``with`` block."""
    endpoint = start_ssh_server(pbx, host=host, port=port, host_key_path=host_key_path,
                                username=username, password=password,
                                session_factory=session_factory,
                                drop_after_bytes=drop_after_bytes)
    try:
        yield endpoint
    finally:
        endpoint.close()
