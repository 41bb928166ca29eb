"""``pbxdiag simulate --smdr --smdr-pty --smdr-layout …``: the simulator's SMDR port and
RS-232 SMDR output in the layout asked for, read by ``pbxdiag smdr parse`` as a call
logger's file; and the layout options' bad input. Real CLI in subprocesses."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import serial

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 30.0
LINES = 40  # lines of the printout compared


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


def endpoints(process: subprocess.Popen[bytes], count: int) -> list[dict[str, Any]]:
    """The first ``count`` announced endpoints, read with a deadline."""
    assert process.stdout is not None
    fd, data, deadline = process.stdout.fileno(), b"", time.monotonic() + DEADLINE
    while data.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"simulator announced only {data!r}"
        chunk = os.read(fd, 65536)
        assert chunk, "the simulator exited"
        data += chunk
    return [json.loads(line) for line in data.decode().splitlines()[:count]]


def receive_until(receive: Any, marker: bytes, data: bytes = b"", count: int = 1) -> bytes:
    """Bytes received up to the ``count``-th ``marker`` (included)."""
    deadline = time.monotonic() + DEADLINE
    while data.count(marker) < count:
        assert time.monotonic() < deadline, f"no {marker!r} in {data[-300:]!r}"
        data += receive()
    return b"".join(part + marker for part in data.split(marker)[:count])


def smdr_parse(tmp_path: Path, data: bytes, *args: str) -> list[dict[str, Any]]:
    log = tmp_path / "smdr.log"
    log.write_bytes(data)
    run = subprocess.run([sys.executable, "-m", "agent.cli", "smdr", "parse", str(log),
                          "--json", *args], capture_output=True, text=True, timeout=60,
                         check=False, env=env(tmp_path))
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_the_smdr_port_and_serial_output_print_the_layout_asked_for(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "simulate", "panasonic-healthy", "--smdr",
         "--smdr-pty", "--smdr-layout", "B", "--smdr-date-order", "MDY",
         "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(tmp_path))
    try:
        port, pty = endpoints(process, 2)
        assert (port["kind"], port["layout"], pty["kind"]) == ("smdr", "B", "smdr-serial")
        with socket.create_connection((port["host"], port["port"]), timeout=DEADLINE) as sock:
            receive_until(lambda: sock.recv(4096), b"\r\n-")
            sock.sendall(port["smdr_user"].encode() + b"\r\n")
            receive_until(lambda: sock.recv(4096), b"Enter Password:")
            sock.sendall(port["smdr_password"].encode() + b"\r\n")
            lan = receive_until(lambda: sock.recv(65536), b"\r\n", count=LINES)
        with serial.Serial(pty["device"], 9600, timeout=DEADLINE) as line:
            line.write(b"\r")
            rs232 = receive_until(lambda: line.read(max(1, line.in_waiting)), b"\r\n",
                                  count=LINES)
    finally:
        process.terminate()
        process.wait(DEADLINE)
    assert rs232.startswith(lan[lan.index(b"  Date"):])  # the same printout, no login
    got = smdr_parse(tmp_path, rs232)
    assert {o["layout"] for o in got} == {"panasonic-B"}
    records = [o["record"] for o in got if "record" in o]
    assert len(records) >= LINES - 10  # a header and rule, a few alarm lines
    assert any(r["cost"].startswith("GB") for r in records)
    assert any(int(r["at"][8:10]) > 12 for r in records)  # MM/DD told by the stream


@pytest.mark.parametrize(("scenario", "args", "fragment"), [
    ("panasonic-healthy", ["--smdr-layout", "R1.03"], "printed by Toshiba PBXs"),
    ("panasonic-healthy", ["--smdr-layout", "hybrid", "--smdr-time", "24h"], "12h clock only"),
    ("toshiba-healthy", ["--smdr-date-order", "MDY"], "prints no date order"),
])
def test_a_layout_the_pbx_cannot_print_is_bad_input(tmp_path: Path, scenario: str,
                                                   args: list[str], fragment: str) -> None:
    run = subprocess.run([sys.executable, "-m", "agent.cli", "simulate", scenario, "--smdr",
                          *args, "--state-dir", str(tmp_path)], capture_output=True,
                         text=True, timeout=60, check=False, env=env(tmp_path))
    assert run.returncode == 2
    assert "--smdr-layout" in run.stderr and fragment in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
