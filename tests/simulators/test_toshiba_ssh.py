"""The Toshiba console over the SSH server: the real OpenSSH client, rude clients, dead PBXs."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from simulators import PbxState, SshEndpoint, load_scenario, serve_ssh
from tests.simulators.test_ssh_server import (
    DEADLINE,
    PASSWORD,
    OpenSsh,
    finish,
    needs_openssh,
    read_until,
)

PROMPT = b"STRATA-CTX670# "
VERSION = b"VERSION : NA102MA2XXP1D12BXSEM.00\r"


@pytest.fixture
def pbx() -> PbxState:
    return load_scenario("toshiba-healthy")


@pytest.fixture
def server(pbx: PbxState, tmp_path: Path) -> Iterator[SshEndpoint]:
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as endpoint:
        yield endpoint


class Shell:
    """A paramiko client shell on the Toshiba console."""

    def __init__(self, endpoint: SshEndpoint) -> None:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=DEADLINE)
        self.transport = paramiko.Transport(sock)
        self.transport.connect(hostkey=endpoint.host_key, username="INSTALLER",
                               password=PASSWORD)
        self.channel = self.transport.open_session(timeout=DEADLINE)
        self.channel.get_pty()
        self.channel.invoke_shell()
        self.channel.settimeout(DEADLINE)

    def read_until(self, marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            chunk = self.channel.recv(4096)
            assert chunk, f"EOF before {marker!r}: {data!r}"
            data += chunk
        return data

    def command(self, line: bytes) -> bytes:
        self.channel.sendall(line + b"\r")
        return self.read_until(PROMPT)

    def close(self) -> None:
        self.transport.close()


@needs_openssh
def test_openssh_session(server: SshEndpoint, tmp_path: Path) -> None:
    result = OpenSsh(server, tmp_path).run(b"SHOW VERSION\rSHOW ALARM\rLOGOUT\r")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"\rSTRATA CTX670 REMOTE MAINTENANCE\r"
                                    b"*** ACCESS LEVEL: TECH1 ***\r\r" + PROMPT)
    assert PROMPT + b"SHOW VERSION\rSYSTEM  : STRATA CTX670\r" + VERSION in result.stdout
    assert b"SHOW ALARM\rNO ACTIVE ALARM\r" in result.stdout
    assert result.stdout.endswith(PROMPT + b"LOGOUT\rGOODBYE\r")
    assert b"\n" not in result.stdout


@needs_openssh
def test_openssh_programming_lock_and_live_fault(pbx: PbxState, server: SshEndpoint,
                                                 tmp_path: Path) -> None:
    client = OpenSsh(server, tmp_path)
    holder = client.spawn()
    try:
        read_until(holder, PROMPT)
        assert holder.stdin is not None
        holder.stdin.write(b"PGM\r")
        read_until(holder, b"(PGM)# ")
        second = client.run(b"PGM\rLOGOUT\r")
        assert b"PGM\r?ERR 03 PROGRAMMING IN USE\r" + PROMPT in second.stdout
        pbx.inject_fault("digital_trunk_out_of_sync", slot=4)
        holder.stdin.write(b"SHOW ALARM\r")
        out = read_until(holder, b"(PGM)# ")
        assert b" 5300 ISDN     MAJOR 010400 LOSS OF FRAME SYNC\r" in out
        holder.kill()  # the holder's line drops without END or LOGOUT
        holder.communicate(timeout=DEADLINE)
        assert pbx.wait_for(lambda: pbx.programming_holder is None, DEADLINE)
        third = client.run(b"PGM\rEND\rLOGOUT\r")
        assert b"PGM\rPROGRAM MODE\r" in third.stdout
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.communicate(timeout=DEADLINE)


@needs_openssh
def test_a_dead_pbx_closes_the_shell_at_once(tmp_path: Path) -> None:
    pbx = load_scenario("toshiba-pbx-dead")
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as server:
        proc = OpenSsh(server, tmp_path).spawn()
        rc, out = finish(proc, b"SHOW VERSION\r")
        assert out == b"" and rc == 0


def test_garbage_long_lines_and_vanishing_clients(pbx: PbxState, server: SshEndpoint) -> None:
    good = Shell(server)
    good.read_until(PROMPT)
    rude = Shell(server)
    rude.read_until(PROMPT)
    rude.channel.sendall(b"\x00\xff\x1b[A\x03" * 200 + b"X" * 5000 + b"\r")
    assert b"?ERR 05 LINE TOO LONG\r" in rude.read_until(b"LINE TOO LONG\r" + PROMPT)
    rude.channel.sendall(b"SHOW ALARM HISTORY\rPGM\rPUT 200 2001 \"Half")  # mid-command
    rude.transport.sock.close()
    assert server.wait_for_connections(1, DEADLINE)
    # The dropped line released the programming lock.
    assert pbx.wait_for(lambda: pbx.programming_holder is None, DEADLINE)
    assert VERSION in good.command(b"SHOW VERSION")
    assert pbx.extension("2001").name == "Reception"
    good.close()
