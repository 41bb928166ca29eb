"""Software nobody here wrote, started on loopback for a test: ser2net and OpenSSH's sshd.

Each program gets its own config in the test's tmp dir, binds only 127.0.0.1 on free
ports, is waited for with a deadline and killed at teardown. A program that is missing
is installed with apt-get when we are root (CI installs them in ``.ci/run``); the test
is skipped, with the reason, only when it cannot be had.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import PASSWORD

_INSTALL_TRIED: dict[str, bool] = {}
START_DEADLINE = 15.0


def require_program(binary: str, package: str) -> str:
    """The program's path; installs ``package`` once if root, else skips with the reason."""
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip(f"{binary} ({package}) is not installed and installing it needs root")
    if package not in _INSTALL_TRIED and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env,
                              capture_output=True, timeout=600, check=False)
        _INSTALL_TRIED[package] = done.returncode == 0
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin")
    if not found:
        pytest.skip(f"{binary} ({package}) is not installed and apt-get could not install it")
    return found


def require_root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``port`` accepts a connection; the program's log in the failure message."""
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"not listening on {port} after {START_DEADLINE}s: {log.read_text()}")


@contextlib.contextmanager
def running(args: list[str], log: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``args`` (output to ``log``), wait until ``port`` listens, kill at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        wait_listening(port, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


REPO = Path(__file__).resolve().parents[2]
HEALTH_CHECK = REPO / "playbooks" / "health-check.yaml"
VARIABLE = "PBXDIAG_REAL_PROGRAMS_TEST_PASSWORD"
INVENTORY = """\
contracts:
  standard:
    calendar: {{nation: england}}
sites:
  acme-bolton:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    paths: {paths}
    timeout: 5
    known_hosts: known_hosts
    credentials: {{username: INSTALLER, password_env: {variable}}}
"""


def run_health_check(paths: list[str], workdir: Path) -> tuple[subprocess.CompletedProcess[str],
                                                                dict[str, object]]:
    """``pbxdiag run health-check --json`` (the real CLI) for a site with ``paths`` and
    ``workdir/known_hosts``; the process and the run's result.json."""
    inventory = workdir / "inventory.yaml"
    inventory.write_text(INVENTORY.format(paths=json.dumps(paths), variable=VARIABLE))
    env = {**os.environ, VARIABLE: PASSWORD, "XDG_DATA_HOME": str(workdir / "xdg")}
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", str(HEALTH_CHECK), "--site", "acme-bolton",
         "--inventory", str(inventory), "--db", str(workdir / "tickets.db"),
         "--output", str(workdir / "out"), "--json"],
        env=env, capture_output=True, text=True, timeout=180, check=False)
    results = sorted((workdir / "out" / "runs").glob("*/result.json"))
    assert results, done.stderr
    result: dict[str, object] = json.loads(results[-1].read_text())
    return done, result


# --- ser2net --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ser2net:
    """A running ser2net: one port per accepter, all in front of the same device."""

    rfc2217: int
    telnet: int
    tcp: int
    admin: int
    log: Path

    def admin_command(self, command: str) -> str:
        """One command on ser2net's control port, its answer up to the next prompt."""
        with socket.create_connection(("127.0.0.1", self.admin), 5) as sock:
            sock.settimeout(5)
            answer = _until_prompt(sock, b"")
            sock.sendall(command.encode() + b"\r\n")
            answer = _until_prompt(sock, command.encode())
        return answer.decode(errors="replace")


def _until_prompt(sock: socket.socket, after: bytes) -> bytes:
    data = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        if data.rstrip().endswith(b"->") and (not after or after in data):
            break
    return data


#: The config the docs show (docs/transports.md, "ser2net"); ``{device}`` is the
#: console's serial port, here the simulator's pty.
SER2NET_CONFIG = """\
%YAML 1.1
---
connection: &pbx-rfc2217
  accepter: telnet(rfc2217),tcp,127.0.0.1,{rfc2217}
  connector: serialdev,{device},{settings},local
connection: &pbx-telnet
  accepter: telnet,tcp,127.0.0.1,{telnet}
  connector: serialdev,{device},{settings},local
connection: &pbx-tcp
  accepter: tcp,127.0.0.1,{tcp}
  connector: serialdev,{device},{settings},local
admin:
  accepter: tcp,127.0.0.1,{admin}
"""


@contextlib.contextmanager
def serve_ser2net(device: str, folder: Path, *, settings: str = "9600n81") -> Iterator[Ser2net]:
    """ser2net in front of ``device`` with RFC 2217, telnet and raw TCP accepters."""
    binary = require_program("ser2net", "ser2net")
    folder.mkdir(parents=True, exist_ok=True)
    ports = {"rfc2217": free_port(), "telnet": free_port(), "tcp": free_port(),
             "admin": free_port()}
    config = folder / "ser2net.yaml"
    config.write_text(SER2NET_CONFIG.format(device=device, settings=settings, **ports))
    log = folder / "ser2net.log"
    args = [binary, "-n", "-d", "-c", str(config), "-P", str(folder / "ser2net.pid")]
    with running(args, log, ports["admin"]):
        for port in (ports["rfc2217"], ports["telnet"], ports["tcp"]):
            wait_listening_only(port)
        yield Ser2net(log=log, **ports)


def wait_listening_only(port: int) -> None:
    """ser2net binds every accepter at start; a port that is not bound yet is retried
    without connecting twice to a live one (a connection opens the device)."""
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return  # taken: ser2net has it
        time.sleep(0.05)
    raise AssertionError(f"ser2net never bound {port}")


# --- OpenSSH sshd ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sshd:
    """A running sshd on 127.0.0.1: its port, its host key's known_hosts line, its log."""

    port: int
    known_hosts_line: str
    log: Path


def ssh_keygen(path: Path) -> Path:
    """A new ed25519 key without passphrase at ``path`` (and ``path.pub``)."""
    keygen = require_program("ssh-keygen", "openssh-client")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True,
                   capture_output=True, timeout=30)
    return path


SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {folder}/sshd.pid
AuthorizedKeysFile {authorized_keys}
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding {forwarding}
PermitTTY yes
LogLevel DEBUG1
{extra}
"""


@contextlib.contextmanager
def serve_sshd(folder: Path, client_key: Path, *, force_command: str | None = None,
               forwarding: bool = False) -> Iterator[Sshd]:
    """OpenSSH's sshd (``-D -e -f``) with its own host key and authorized_keys (the
    ``client_key``'s public half, for the user running the tests — root, as sshd's
    privilege separation needs)."""
    require_root("OpenSSH's sshd runs its privilege separation as root")
    binary = require_program("sshd", "openssh-server")
    folder.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privsep chroot
    host_key = ssh_keygen(folder / "ssh_host_ed25519_key")
    authorized = folder / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(SSHD_CONFIG.format(
        port=port, host_key=host_key, folder=folder, authorized_keys=authorized,
        forwarding="yes" if forwarding else "no",
        extra=f"ForceCommand {force_command}" if force_command else ""))
    log = folder / "sshd.log"
    kind, key, *_ = host_key.with_suffix(".pub").read_text().split()
    with running([binary, "-D", "-e", "-f", str(config)], log, port):
        yield Sshd(port=port, known_hosts_line=f"[127.0.0.1]:{port} {kind} {key}", log=log)
