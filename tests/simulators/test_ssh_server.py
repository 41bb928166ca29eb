"""The SSH simulator end to end: the real OpenSSH client, paramiko clients, and rude clients."""

from __future__ import annotations

import os
import random
import re
import select
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from time import monotonic

import paramiko
import pytest

from simulators import PbxState, SshEndpoint, load_or_create_host_key, load_scenario, serve_ssh

PASSWORD = "tde-1234"
PROMPT = b"KX-TDE200> "
VERSION = b"PMPR Software File Version 5.0000\r\n"
DEADLINE = 20.0
SSH = shutil.which("ssh") or "/usr/bin/ssh"
needs_openssh = pytest.mark.skipif(not Path(SSH).exists(), reason="OpenSSH client not installed")


@pytest.fixture
def pbx() -> PbxState:
    return load_scenario("panasonic-healthy")


@pytest.fixture
def server(pbx: PbxState, tmp_path: Path) -> Iterator[SshEndpoint]:
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as endpoint:
        yield endpoint


class OpenSsh:
    """The OpenSSH client, password from SSH_ASKPASS, host key checked strictly."""

    def __init__(self, endpoint: SshEndpoint, tmp_path: Path, *, password: str = PASSWORD,
                 auth: str = "password", known_hosts_line: str | None = None) -> None:
        askpass = tmp_path / "askpass.sh"
        askpass.write_text('#!/bin/sh\nprintf \'%s\\n\' "$PBXDIAG_TEST_PASSWORD"\n')
        askpass.chmod(0o700)
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text((known_hosts_line or endpoint.known_hosts_line()) + "\n")
        self.argv = [
            SSH, "-F", "/dev/null", "-tt", "-p", str(endpoint.port),
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "PubkeyAuthentication=no",
            "-o", f"PreferredAuthentications={auth}", "-o", "NumberOfPasswordPrompts=1",
            "-o", "ConnectTimeout=10", f"INSTALLER@{endpoint.host}",
        ]
        self.env = dict(os.environ, SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force",
                        PBXDIAG_TEST_PASSWORD=password)

    def run(self, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(self.argv, input=stdin, capture_output=True, env=self.env,
                              timeout=DEADLINE, check=False)

    def spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env, bufsize=0)


def read_until(proc: subprocess.Popen[bytes], marker: bytes) -> bytes:
    """Read the client's stdout until ``marker`` arrives, or fail at the deadline."""
    assert proc.stdout is not None
    fd, data, deadline = proc.stdout.fileno(), b"", monotonic() + DEADLINE
    while marker not in data:
        remaining = deadline - monotonic()
        assert remaining > 0, f"no {marker!r} in {data!r}"
        if select.select([fd], [], [], remaining)[0]:
            chunk = os.read(fd, 4096)
            assert chunk, f"EOF before {marker!r}: {data!r}"
            data += chunk
    return data


def finish(proc: subprocess.Popen[bytes], stdin: bytes) -> tuple[int, bytes]:
    out, _ = proc.communicate(stdin, timeout=DEADLINE)
    return proc.returncode, out


class Shell:
    """A paramiko client shell with the server's host key pinned."""

    def __init__(self, endpoint: SshEndpoint, password: str = PASSWORD) -> None:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=DEADLINE)
        self.transport = paramiko.Transport(sock)
        try:
            self.transport.connect(hostkey=endpoint.host_key, username="INSTALLER",
                                   password=password)
        except paramiko.SSHException:
            self.transport.close()
            raise
        self.channel = self.transport.open_session(timeout=DEADLINE)
        self.channel.get_pty()
        self.channel.invoke_shell()
        self.channel.settimeout(DEADLINE)
        self.banner = self.read_until(PROMPT)

    def read_until(self, marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            chunk = self.channel.recv(4096)  # raises socket.timeout at the deadline
            assert chunk, f"EOF before {marker!r}: {data!r}"
            data += chunk
        return data

    def command(self, line: bytes) -> bytes:
        self.channel.sendall(line + b"\r")
        return self.read_until(PROMPT)

    def close(self) -> None:
        self.transport.close()


# --- the real OpenSSH client ----------------------------------------------------------------


@needs_openssh
@pytest.mark.parametrize("auth", ["password", "keyboard-interactive"])
def test_openssh_session(server: SshEndpoint, tmp_path: Path, auth: str) -> None:
    result = OpenSsh(server, tmp_path, auth=auth).run(b"VER\rEXIT\r")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"\r\nPanasonic KX-TDE200 Maintenance Console\r\n")
    assert b"KX-TDE200> VER\r\nSystem Model   : KX-TDE200\r\n" + VERSION in result.stdout
    assert result.stdout.endswith(b"KX-TDE200> EXIT\r\nBYE\r\n")


@needs_openssh
def test_wrong_password_is_refused(server: SshEndpoint, tmp_path: Path) -> None:
    result = OpenSsh(server, tmp_path, password="guess").run(b"VER\rEXIT\r")
    assert result.returncode == 255
    assert b"Permission denied" in result.stderr
    assert VERSION not in result.stdout


@needs_openssh
def test_a_different_host_key_is_refused(server: SshEndpoint, tmp_path: Path) -> None:
    impostor = load_or_create_host_key(tmp_path / "impostor_key")
    line = f"[{server.host}]:{server.port} {impostor.get_name()} {impostor.get_base64()}"
    result = OpenSsh(server, tmp_path, known_hosts_line=line).run(b"VER\rEXIT\r")
    assert result.returncode == 255
    assert b"Host key verification failed" in result.stderr


@needs_openssh
def test_second_session_while_the_first_is_idle(pbx: PbxState, server: SshEndpoint,
                                                tmp_path: Path) -> None:
    client = OpenSsh(server, tmp_path)
    idle = client.spawn()
    try:
        read_until(idle, PROMPT)
        second = client.run(b"VER\rEXIT\r")
        assert second.returncode == 0, second.stderr
        assert VERSION in second.stdout
        pbx.inject_fault("dead_card", slot=3)  # while the first session is live
        assert idle.stdin is not None
        idle.stdin.write(b"ALM\r")
        assert b"MJ ALM #230 00 10300 Card disconnected\r\n" in read_until(idle, b"\r\n" + PROMPT)
        assert finish(idle, b"EXIT\r") == (0, b"EXIT\r\nBYE\r\n")
    finally:
        if idle.poll() is None:
            idle.kill()
            idle.communicate(timeout=DEADLINE)


@needs_openssh
def test_close_ends_live_openssh_sessions(pbx: PbxState, tmp_path: Path) -> None:
    endpoint = serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD)
    with endpoint as server:
        idle = OpenSsh(server, tmp_path).spawn()
        read_until(idle, PROMPT)
    rc, _ = finish(idle, b"")
    assert rc == 255  # the connection was closed under it
    assert server.connection_count == 0


# --- host key -----------------------------------------------------------------------------


def test_host_key_is_created_once_with_mode_0600(pbx: PbxState, tmp_path: Path) -> None:
    path = tmp_path / "keys" / "host_key"
    with serve_ssh(pbx, host_key_path=path, password=PASSWORD) as first:
        line = first.known_hosts_line()
        assert re.fullmatch(rf"\[127\.0\.0\.1\]:{first.port} ssh-ed25519 AAAA[A-Za-z0-9+/=]+",
                            line)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    with serve_ssh(pbx, host_key_path=path, password=PASSWORD) as second:
        assert second.host_key.get_base64() == first.host_key.get_base64()
    assert sorted(p.name for p in path.parent.iterdir()) == ["host_key"]


# --- many clients, rude clients -------------------------------------------------------------


def test_many_concurrent_sessions(server: SshEndpoint) -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            shell = Shell(server)
            results.append(shell.command(b"VER"))
            shell.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    assert errors == []
    assert len(results) == 12
    assert all(VERSION in r for r in results)


def test_wrong_password_over_paramiko(server: SshEndpoint) -> None:
    with pytest.raises(paramiko.AuthenticationException):
        Shell(server, password="nope")
    assert server.wait_for_connections(0, DEADLINE)


def test_garbage_does_not_hurt_other_sessions(server: SshEndpoint) -> None:
    shell = Shell(server)
    noise = random.Random(7).randbytes(20000)
    for prefix in (b"", b"SSH-2.0-OpenSSH_9.2\r\n"):
        with socket.create_connection((server.host, server.port), timeout=DEADLINE) as rude:
            try:
                rude.sendall(prefix + noise)
                while rude.recv(4096):  # the server answers (or not) and hangs up
                    pass
            except ConnectionResetError:  # it hung up with our noise unread
                pass
    assert VERSION in shell.command(b"VER")
    assert server.wait_for_connections(1, DEADLINE)
    shell.channel.sendall(b"\x00\xff\x1b[A\x03" * 100 + b"\r")
    assert shell.read_until(PROMPT)
    assert VERSION in shell.command(b"VER")
    shell.close()


def test_client_vanishing_mid_command(server: SshEndpoint) -> None:
    shell = Shell(server)
    shell.channel.sendall(b"PAGE 5\rEXT\r")
    shell.read_until(b"-- More -- ")  # the session is waiting at the pager
    shell.transport.sock.close()  # pulled the plug
    assert server.wait_for_connections(0, DEADLINE)
    other = Shell(server)
    assert VERSION in other.command(b"VER")
    other.close()


def test_exit_closes_the_channel(server: SshEndpoint) -> None:
    shell = Shell(server)
    shell.channel.sendall(b"EXIT\r")
    assert shell.read_until(b"BYE\r\n").endswith(b"BYE\r\n")
    assert shell.channel.recv(4096) == b""
    assert shell.channel.recv_exit_status() == 0
    shell.close()


def test_close_ends_live_sessions_and_threads(pbx: PbxState, tmp_path: Path) -> None:
    server = serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD)
    with server as endpoint:
        shells = [Shell(endpoint) for _ in range(3)]
    for shell in shells:
        assert shell.channel.recv(4096) == b""
        shell.close()
    assert endpoint.connection_count == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("ssh-")]
