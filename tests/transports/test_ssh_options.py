"""SSH per-site options: trust on first use, key authentication, legacy algorithms,
keepalives — against the SSH simulator and a small configurable paramiko server."""

from __future__ import annotations

import contextlib
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
import pytest
from paramiko.common import AUTH_FAILED, AUTH_SUCCESSFUL, OPEN_SUCCEEDED

from agent.errors import AuthFailed, ConnectFailed, HostKeyRejected
from agent.line.secrets import Secret
from agent.line.transports import transport_for_url
from agent.line.transports.base import Credentials
from simulators import PbxState, SshEndpoint, load_or_create_host_key, serve_ssh
from simulators.panasonic.console import PanasonicSession

PASSWORD = "ssh-Opt-Secret-31"
BANNER_END = b"KX-TDE200> "


@pytest.fixture
def server(pbx: PbxState, tmp_path: Path) -> Iterator[SshEndpoint]:
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as endpoint:
        yield endpoint


def connect(url: str, known_hosts: Path, password: str | None = PASSWORD) -> bytes:
    """Open, read up to the prompt, close; what the PBX said."""
    credentials = Credentials("INSTALLER", Secret(password) if password else None)
    with transport_for_url(url, credentials=credentials, known_hosts=known_hosts,
                           connect_timeout=5) as line:
        seen = b""
        while not seen.endswith(BANNER_END):
            chunk = line.read(4096, 5)
            assert chunk, f"no prompt; got {seen!r}"
            seen += chunk
        return seen


# --- trust on first use ----------------------------------------------------------------


def test_tofu_records_an_unknown_key_then_it_is_known(server: SshEndpoint,
                                                      tmp_path: Path) -> None:
    known_hosts = tmp_path / "kh" / "known_hosts"
    url = f"ssh://INSTALLER@127.0.0.1:{server.port}"
    with pytest.raises(HostKeyRejected, match="unknown host key"):
        connect(url, known_hosts)
    assert not known_hosts.exists()
    connect(url + "?tofu=1", known_hosts)
    assert known_hosts.read_text() == server.known_hosts_line() + "\n"
    assert stat.S_IMODE(known_hosts.stat().st_mode) == 0o600
    connect(url, known_hosts)  # now verified without TOFU
    connect(url + "?tofu=1", known_hosts)
    assert known_hosts.read_text().count("\n") == 1  # recorded once


def test_tofu_never_accepts_a_changed_key(server: SshEndpoint, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    other = load_or_create_host_key(tmp_path / "other_key")
    known_hosts.write_text(f"[127.0.0.1]:{server.port} {other.get_name()} "
                           f"{other.get_base64()}\n")
    with pytest.raises(HostKeyRejected, match="CHANGED"):
        connect(f"ssh://INSTALLER@127.0.0.1:{server.port}?tofu=1", known_hosts)
    assert known_hosts.read_text().count("\n") == 1


def test_tofu_treats_another_key_type_on_record_as_a_change(server: SshEndpoint,
                                                           tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    ecdsa = paramiko.ECDSAKey.generate()
    known_hosts.write_text(f"[127.0.0.1]:{server.port} {ecdsa.get_name()} "
                           f"{ecdsa.get_base64()}\n")
    with pytest.raises(HostKeyRejected, match="CHANGED"):
        connect(f"ssh://INSTALLER@127.0.0.1:{server.port}?tofu=1", known_hosts)


# --- a configurable server --------------------------------------------------------------


@dataclass
class Tiny(paramiko.ServerInterface):
    """One connection: chosen auth methods and algorithms, a Panasonic shell."""

    pbx: PbxState
    client_key: paramiko.PKey | None = None
    password: str | None = None
    keepalives: threading.Event = field(default_factory=threading.Event)

    def get_allowed_auths(self, username: str) -> str:
        methods = (["publickey"] if self.client_key else []) + (
            ["password"] if self.password else [])
        return ",".join(methods)

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        good = self.client_key is not None and key.asbytes() == self.client_key.asbytes()
        return AUTH_SUCCESSFUL if good else AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        return AUTH_SUCCESSFUL if password == self.password else AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return OPEN_SUCCEEDED

    def check_channel_pty_request(self, *args: object) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return True

    def check_global_request(self, kind: str, msg: paramiko.Message) -> bool:
        if kind == "keepalive@lag.net":
            self.keepalives.set()
        return False


@dataclass
class TinyEndpoint:
    port: int
    known_hosts: Path
    interface: Tiny


@contextlib.contextmanager
def serve_tiny(interface: Tiny, tmp_path: Path, *, ciphers: tuple[str, ...] = (),
               macs: tuple[str, ...] = ()) -> Iterator[TinyEndpoint]:
    host_key = load_or_create_host_key(tmp_path / "tiny_host_key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    known_hosts = tmp_path / "tiny_known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.get_name()} "
                           f"{host_key.get_base64()}\n")
    transports: list[paramiko.Transport] = []

    def serve() -> None:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        transport = paramiko.Transport(sock)
        transports.append(transport)
        options = transport.get_security_options()
        if ciphers:
            options.ciphers = ciphers
        if macs:
            options.digests = macs
        transport.add_server_key(host_key)
        try:
            transport.start_server(server=interface)
            channel = transport.accept(10)
        except (paramiko.SSHException, EOFError, OSError):
            return
        if channel is not None:
            shell(channel)

    def shell(channel: paramiko.Channel) -> None:
        session = PanasonicSession(interface.pbx, login_required=False, send=channel.sendall)
        try:
            session.start()
            while not session.closed and (data := channel.recv(4096)):
                session.feed(data)
        except (OSError, EOFError, paramiko.SSHException):
            pass  # the client went away
        finally:
            session.close()
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                channel.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield TinyEndpoint(port, known_hosts, interface)
    finally:
        listener.close()
        for transport in transports:
            transport.close()
            with transport.server_accept_cv:  # wake accept(): close() does not
                transport.server_accept_cv.notify_all()
        thread.join(5)


def url_of(endpoint: TinyEndpoint, query: str = "") -> str:
    return f"ssh://INSTALLER@127.0.0.1:{endpoint.port}" + (f"?{query}" if query else "")


# --- key authentication -----------------------------------------------------------------


def test_an_encrypted_key_is_unlocked_with_the_site_password(pbx: PbxState,
                                                            tmp_path: Path) -> None:
    key = paramiko.ECDSAKey.generate()
    key.write_private_key_file(str(tmp_path / "id_ecdsa"), password=PASSWORD)
    with serve_tiny(Tiny(pbx, client_key=key), tmp_path) as tiny:
        connect(url_of(tiny, f"key_file={tmp_path / 'id_ecdsa'}"), tiny.known_hosts)


def test_key_authentication_without_a_password(pbx: PbxState, tmp_path: Path) -> None:
    key = load_or_create_host_key(tmp_path / "id_ed25519")
    with serve_tiny(Tiny(pbx, client_key=key), tmp_path) as tiny:
        seen = connect(url_of(tiny, f"key_file={tmp_path / 'id_ed25519'}"), tiny.known_hosts,
                       password=None)
    assert seen.endswith(BANNER_END)


def test_a_refused_key_falls_back_to_the_password(pbx: PbxState, tmp_path: Path) -> None:
    load_or_create_host_key(tmp_path / "id_ed25519")
    other = load_or_create_host_key(tmp_path / "authorised")
    with serve_tiny(Tiny(pbx, client_key=other, password=PASSWORD), tmp_path) as tiny:
        connect(url_of(tiny, f"key_file={tmp_path / 'id_ed25519'}"), tiny.known_hosts)


def test_a_refused_key_without_a_password_is_auth_failed(pbx: PbxState,
                                                          tmp_path: Path) -> None:
    load_or_create_host_key(tmp_path / "id_ed25519")
    other = load_or_create_host_key(tmp_path / "authorised")
    with serve_tiny(Tiny(pbx, client_key=other), tmp_path) as tiny, \
            pytest.raises(AuthFailed, match="refused the key"):
        connect(url_of(tiny, f"key_file={tmp_path / 'id_ed25519'}"), tiny.known_hosts,
                password=None)


def test_an_unreadable_key_file_is_auth_failed(pbx: PbxState, tmp_path: Path) -> None:
    with serve_tiny(Tiny(pbx, password=PASSWORD), tmp_path) as tiny, \
            pytest.raises(AuthFailed, match="cannot use key file"):
        connect(url_of(tiny, f"key_file={tmp_path / 'missing'}"), tiny.known_hosts)


# --- legacy algorithms and keepalives ---------------------------------------------------


def test_old_firmware_needs_legacy(pbx: PbxState, tmp_path: Path) -> None:
    old = {"ciphers": ("aes128-cbc",), "macs": ("hmac-sha1",)}
    with serve_tiny(Tiny(pbx, password=PASSWORD), tmp_path, **old) as tiny, \
            pytest.raises(ConnectFailed, match="try legacy=1"):
        connect(url_of(tiny), tiny.known_hosts)
    with serve_tiny(Tiny(pbx, password=PASSWORD), tmp_path, **old) as tiny:
        connect(url_of(tiny, "legacy=1"), tiny.known_hosts)


def test_keepalives_are_sent(pbx: PbxState, tmp_path: Path) -> None:
    with serve_tiny(Tiny(pbx, password=PASSWORD), tmp_path) as tiny:
        credentials = Credentials("INSTALLER", Secret(PASSWORD))
        with transport_for_url(url_of(tiny, "keepalive=1"), credentials=credentials,
                               known_hosts=tiny.known_hosts):
            assert tiny.interface.keepalives.wait(5)
