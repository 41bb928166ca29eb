"""The same 10-command health check over SSH: pbxdiag's console vs the floor.

The floor is the simplest correct hand-written paramiko loop (send, read until the
prompt, no sleeps). Both talk to the same simulated PBX on loopback, after a warm-up.
Peers (Netmiko, Scrapli) join this table in the bench dependency group (issue 8).
"""

from __future__ import annotations

import re
import socket
import statistics
import tempfile
import time
from pathlib import Path

import paramiko

from agent.console import Console
from agent.secrets import Secret
from agent.transports.base import Credentials
from agent.transports.ssh import SSHTransport
from drivers.panasonic import PanasonicDriver
from simulators import load_scenario, serve_ssh

COMMANDS = ["VER", "ALM", "ERR", "CARD", "CO", "EXT", "MODE", "DATE", "CO", "EXT"]
PASSWORD = "bench-pw-1234"
PROMPT = re.compile(rb"KX-[A-Z0-9]+> \Z")
REPEATS = 15


def pbxdiag_session(host: str, port: int, known_hosts: Path) -> None:
    transport = SSHTransport(host=host, port=port, known_hosts=known_hosts,
                             credentials=Credentials("INSTALLER", Secret(PASSWORD)))
    transport.open()
    try:
        driver = PanasonicDriver(Console(transport, PanasonicDriver.dialect))
        driver.open_session(transport.credentials)
        for command in COMMANDS:
            driver.run_command(command)
        driver.close_session()
    finally:
        transport.close()


def floor_session(host: str, port: int) -> None:
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = paramiko.Transport(sock)
    try:
        client.start_client()
        client.auth_password("INSTALLER", PASSWORD)
        channel = client.open_session()
        channel.get_pty()
        channel.invoke_shell()
        _read_to_prompt(channel)
        for command in ["PAGE OFF", *COMMANDS]:
            channel.sendall(command.encode() + b"\r")
            _read_to_prompt(channel)
        channel.sendall(b"EXIT\r")
    finally:
        client.close()


def _read_to_prompt(channel: paramiko.Channel) -> bytes:
    buffer = b""
    while not PROMPT.search(buffer[-64:]):
        chunk = channel.recv(65536)
        if not chunk:
            raise EOFError("simulator closed the session")
        buffer += chunk
    return buffer


def _time(fn: object, *args: object) -> float:
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def run() -> list[dict[str, object]]:
    from bench.__main__ import summarise

    folder = Path(tempfile.mkdtemp(prefix="pbxdiag-bench-"))
    pbx = load_scenario("panasonic-healthy")
    with serve_ssh(pbx, host_key_path=folder / "host_key", password=PASSWORD) as endpoint:
        known_hosts = folder / "known_hosts"
        known_hosts.write_text(endpoint.known_hosts_line() + "\n")
        cases = {
            "floor: hand-written paramiko loop": lambda: floor_session(endpoint.host,
                                                                       endpoint.port),
            "pbxdiag console + Panasonic driver": lambda: pbxdiag_session(
                endpoint.host, endpoint.port, known_hosts),
        }
        for fn in cases.values():  # warm-up
            fn()
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(REPEATS):  # interleaved, so drift hits both alike
            for name, fn in cases.items():
                samples[name].append(_time(fn))
    floor = statistics.median(samples["floor: hand-written paramiko loop"])
    rows: list[dict[str, object]] = []
    for name, values in samples.items():
        ratio = statistics.median(values) / floor
        row: dict[str, object] = {"case": name, **summarise(values, "ms", 1000),
                                  "ratio": f"{ratio:.2f}× floor"}
        if name.startswith("pbxdiag"):
            row.update(target="≤ 1.20× floor", met="yes" if ratio <= 1.2 else "NO")
        rows.append(row)
    return rows
