"""PostgreSQL and Redis, the real servers, started once per test session on loopback.

The register's PostgreSQL backend and the Celery fleet are tested against these, never
against fakes. PostgreSQL refuses to run as root (CI runs as root), so the throw-away
cluster is made by ``initdb`` and started by ``pg_ctl`` as the unprivileged ``postgres``
user (``runuser``) when we are root. The cluster lives in a temporary directory, listens
on 127.0.0.1 on a free port with ``trust`` auth, and is built for speed, not durability
(``fsync=off``): each test gets its own database, made by ``fresh_database``.

Every wait has a deadline: ``pg_ctl -w -t`` waits for the server itself; Redis is
waited for by its "Ready to accept connections" line, read with a deadline.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

START_DEADLINE = 60.0
_INSTALL_TRIED: dict[str, bool] = {}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _install(package: str) -> None:
    """apt-get install ``package`` once, when root (CI's .ci/run installs them first)."""
    if os.geteuid() != 0 or package in _INSTALL_TRIED or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env,
                          capture_output=True, timeout=900, check=False)
    _INSTALL_TRIED[package] = done.returncode == 0


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """A running cluster: ``url`` connects to its ``postgres`` database as superuser."""

    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True, slots=True)
class RedisServer:
    host: str
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"


def _as_postgres_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """initdb + pg_ctl start in a temporary directory; stopped and removed at the end."""
    bindir = _postgres_bin()
    if bindir is None:
        _install("postgresql")
        bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL (Debian's postgresql) is not installed and cannot be")
    root = Path(tempfile.mkdtemp(prefix="pbxdiag-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    port = _free_port()
    log = root / "server.log"
    try:
        subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data),
                                          "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                          "--no-sync"]),
                       check=True, capture_output=True, timeout=START_DEADLINE)
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories="
                   f"{root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                   " -c max_connections=300")
        subprocess.run(_as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-l",
                                          str(log), "-o", options, "-w", "-t",
                                          str(int(START_DEADLINE)), "start"]),
                       check=True, capture_output=True, timeout=START_DEADLINE + 10)
        yield PostgresServer(host="127.0.0.1", port=port, user="postgres")
    finally:
        subprocess.run(_as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-m",
                                          "immediate", "-w", "-t", "30", "stop"]),
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server: PostgresServer, prefix: str = "t") -> str:
    """A new, empty database on ``server``; its URL."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(server.url(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """redis-server on 127.0.0.1, no persistence; waited for by its ready line."""
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin")
    if binary is None:
        _install("redis-server")
        binary = shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if binary is None:
        pytest.skip("redis-server (Debian's redis-server) is not installed and cannot be")
    port = _free_port()
    process = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    try:
        _wait_for_line(process, b"Ready to accept connections")
        yield RedisServer(host="127.0.0.1", port=port)
    finally:
        process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_line(process: subprocess.Popen[bytes], marker: bytes) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + START_DEADLINE
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while marker not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise AssertionError(f"redis-server did not start: {seen.decode(errors='replace')}")
            if selector.select(left):
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError(f"redis-server exited: {seen.decode(errors='replace')}")
                seen = (seen + chunk)[-65536:]
    # keep draining its output so a chatty server never blocks on a full pipe
    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()


def _drain(stream: IO[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        while stream.read(4096):
            pass
