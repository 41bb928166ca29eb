"""Fetch a PBX's SSH host key, for out-of-band confirmation before it is trusted.

``ssh-keyscan`` by hand was the only way to record a key; this does the same over the
project's own SSH stack (same algorithms, same TCP_NODELAY socket) and writes the
OpenSSH known_hosts line only when the caller has confirmed the fingerprint.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import paramiko

from agent.line.errors import ConnectFailed
from agent.line.transports.ssh import WEAK_ALGORITHMS, fingerprint, known_hosts_name


@dataclass(frozen=True, slots=True)
class ScannedKey:
    name: str  # as OpenSSH files it: host, or [host]:port
    key: paramiko.PKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    @property
    def line(self) -> str:
        return f"{self.name} {self.key.get_name()} {self.key.get_base64()}"


def scan(host: str, port: int, *, timeout: float = 10.0, legacy: bool = False) -> ScannedKey:
    """The key the server offers (no authentication is attempted)."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as err:
        raise ConnectFailed(f"cannot connect to {host}:{port}: {err.strerror or err}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = paramiko.Transport(sock, disabled_algorithms=None if legacy else WEAK_ALGORITHMS)
    try:
        transport.start_client(timeout=timeout)
        return ScannedKey(known_hosts_name(host, port), transport.get_remote_server_key())
    except (paramiko.SSHException, EOFError, OSError) as err:
        raise ConnectFailed(f"SSH negotiation with {host}:{port} failed: {err}") from None
    finally:
        transport.close()


def recorded(path: Path, scanned: ScannedKey) -> bool | None:
    """True if this key is recorded, False if another key of that type is, None if none."""
    if not path.exists():
        return None
    keys = paramiko.HostKeys(str(path)).lookup(scanned.name)
    if not keys or scanned.key.get_name() not in keys:
        return None
    return keys[scanned.key.get_name()].asbytes() == scanned.key.asbytes()


def record(path: Path, scanned: ScannedKey, *, replace: bool = False) -> None:
    """Append the line (0600); with ``replace``, drop the name's old lines of that type."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="ascii").splitlines() if path.exists() else []
    if replace:
        lines = [line for line in lines
                 if not _same_entry(line, scanned.name, scanned.key.get_name())]
    lines.append(scanned.line)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write("\n".join(lines) + "\n")


def _same_entry(line: str, name: str, key_type: str) -> bool:
    fields = line.split()
    return len(fields) >= 3 and name in fields[0].split(",") and fields[1] == key_type
