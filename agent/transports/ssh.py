"""SSH line (paramiko) with host keys verified against a known_hosts file.

There is no silent auto-add: an unknown key or a changed key is refused with the key's
fingerprint so support can check it with the site. The socket gets TCP_NODELAY because
paramiko never sets it and each authentication round would otherwise stall ~40 ms.
"""

from __future__ import annotations

import base64
import hashlib
import socket
from pathlib import Path

import paramiko

from agent.errors import AuthFailed, ConnectFailed, HostKeyRejected, LineDropped
from agent.secrets import REDACTOR
from agent.transports.base import Credentials, Transport


def known_hosts_name(host: str, port: int) -> str:
    """The name OpenSSH files a host under: bare host on 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


class SSHTransport(Transport):
    authenticates = True

    def __init__(self, *, host: str, port: int, credentials: Credentials,
                 known_hosts: Path | None, connect_timeout: float = 10.0,
                 term_width: int = 132) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.credentials = credentials
        self.known_hosts = known_hosts
        self.connect_timeout = connect_timeout
        self.term_width = term_width
        self._transport: paramiko.Transport | None = None
        self._channel: paramiko.Channel | None = None

    @property
    def display_url(self) -> str:
        user = f"{self.credentials.username}@" if self.credentials.username else ""
        return f"ssh://{user}{self.host}:{self.port}"

    def open(self) -> None:
        try:
            self._transport = paramiko.Transport(self._connect_socket())
            self._transport.start_client(timeout=self.connect_timeout)
            self._verify_host_key(self._transport.get_remote_server_key())
            self._authenticate(self._transport)
            self._channel = self._open_shell(self._transport)
        except BaseException:
            self.close()
            raise

    def _connect_socket(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as err:
            raise ConnectFailed(f"cannot connect to {self.display_url}: {err.strerror or err}") \
                from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _verify_host_key(self, key: paramiko.PKey) -> None:
        name = known_hosts_name(self.host, self.port)
        offered = f"{key.get_name()} {fingerprint(key)}"
        if self.known_hosts is None or not self.known_hosts.exists():
            raise HostKeyRejected(
                f"no known_hosts file to verify {name} ({offered}); record the PBX's key first")
        recorded = paramiko.HostKeys(str(self.known_hosts)).lookup(name)
        if not recorded:
            raise HostKeyRejected(
                f"unknown host key for {name} ({offered}); not in {self.known_hosts}")
        expected = recorded.get(key.get_name())
        if expected is None or expected.asbytes() != key.asbytes():
            raise HostKeyRejected(
                f"host key for {name} has CHANGED (now {offered}); refusing to connect — "
                f"check with the site before updating {self.known_hosts}")

    def _authenticate(self, transport: paramiko.Transport) -> None:
        username = self.credentials.username or ""
        secret = self.credentials.password.reveal() if self.credentials.password else ""
        try:
            try:
                transport.auth_password(username, secret)
            except paramiko.BadAuthenticationType as err:
                if "keyboard-interactive" not in err.allowed_types:
                    raise
                transport.auth_interactive(
                    username, lambda _title, _instr, prompts: [secret for _ in prompts])
        except paramiko.AuthenticationException as err:
            raise AuthFailed(
                f"{self.display_url} refused the credentials: {REDACTOR.scrub(str(err))}") \
                from None
        except paramiko.SSHException as err:
            raise ConnectFailed(f"SSH failure on {self.display_url}: {REDACTOR.scrub(str(err))}") \
                from None

    def _open_shell(self, transport: paramiko.Transport) -> paramiko.Channel:
        try:
            channel = transport.open_session(timeout=self.connect_timeout)
            channel.get_pty(term="vt100", width=self.term_width, height=24)
            channel.invoke_shell()
        except (paramiko.SSHException, OSError) as err:
            raise ConnectFailed(f"no shell on {self.display_url}: {err}") from None
        return channel

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        channel = self._require_channel()
        channel.settimeout(timeout)
        try:
            data = channel.recv(max_bytes)
        except TimeoutError:
            return b""
        except (OSError, paramiko.SSHException) as err:
            raise LineDropped(f"SSH line to {self.display_url} dropped: {err}") from None
        if not data:
            raise LineDropped(f"the PBX closed the SSH session on {self.display_url}")
        return data

    def _write(self, data: bytes) -> None:
        channel = self._require_channel()
        try:
            channel.sendall(data)
        except (OSError, paramiko.SSHException) as err:
            raise LineDropped(f"SSH line to {self.display_url} dropped: {err}") from None

    def _require_channel(self) -> paramiko.Channel:
        if self._channel is None or self._channel.closed:
            raise LineDropped(f"SSH session to {self.display_url} is not open")
        return self._channel

    def close(self) -> None:
        channel, self._channel = self._channel, None
        transport, self._transport = self._transport, None
        if channel is not None:
            channel.close()
        if transport is not None:
            transport.close()
