"""``pbxdiag simulate`` serving every line kind, used by the transports as a user would."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.line.secrets import Secret
from agent.line.transports import transport_for_url
from agent.line.transports.base import Credentials

from .conftest import RFC2217_WARNINGS, Survey, survey

pytestmark = RFC2217_WARNINGS


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[dict[str, Any]]]]:
    args = [sys.executable, "-m", "agent.cli", "simulate", "panasonic-healthy", "--telnet",
            "--tcp", "--pty", "--rfc2217", "--modem", "--ssh", "--baud", "57600",
            "--state-dir", str(tmp_path)]
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        yield process, read_endpoints(process, 6)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def read_endpoints(process: subprocess.Popen[str], count: int) -> list[dict[str, Any]]:
    """The first ``count`` JSON lines, read from the pipe's descriptor with a deadline
    (``readline`` would buffer ahead where ``select`` cannot see)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    data = b""
    deadline = time.monotonic() + 30
    while data.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"simulator announced only {data!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"simulator exited: {process.stderr.read() if process.stderr else ''}"
        data += chunk
    return [json.loads(line) for line in data.decode().splitlines()[:count]]


def test_every_endpoint_is_announced_and_usable(
        simulator: tuple[subprocess.Popen[str], list[dict[str, Any]]], tmp_path: Path) -> None:
    process, records = simulator
    kinds = [r["kind"] for r in records]
    assert kinds == ["ssh", "telnet", "tcp", "serial", "rfc2217", "modem"]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(records[0]["known_hosts"] + "\n")
    for record in records:
        credentials = Credentials(record["username"], Secret(record["password"]))
        url = record["url"]
        if record["kind"] == "modem":
            assert record["number"] == "599" and Path(record["status_file"]).exists()
            url += "&guard=0.05&init=ATZ&init=ATE0V1X4S12=2"
        with transport_for_url(url, credentials=credentials, known_hosts=known_hosts,
                               connect_timeout=10) as line:
            result = survey(line, credentials=credentials)
        assert result == Survey("KX-TDE200", result.cards, result.extensions, "day"), record
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0


def test_without_a_line_option_it_serves_ssh(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "agent.cli", "simulate",
                                "panasonic-healthy"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        (record,) = read_endpoints(process, 1)
        assert record["kind"] == "ssh" and record["url"].startswith("ssh://INSTALLER@")
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_bad_conditions_are_bad_input(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "agent.cli", "simulate", "panasonic-healthy",
                          "--telnet", "--noise", "2"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
                         check=False)
    assert run.returncode == 2, run.stderr
    assert "noise rate" in run.stderr + run.stdout


def _announce(args: list[str], tmp_path: Path) -> dict[str, Any]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    process = subprocess.Popen([sys.executable, "-m", "agent.cli", "simulate",
                                "panasonic-healthy", "--telnet", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        return read_endpoints(process, 1)[0]
    finally:
        process.terminate()
        process.wait(10)


def test_the_password_is_stable_per_state_dir_or_given(tmp_path: Path) -> None:
    """Issue 19: a rehearsal inventory keeps working across restarts of the simulator."""
    state = ["--state-dir", str(tmp_path / "state")]
    first = _announce(state, tmp_path)["password"]
    assert _announce(state, tmp_path)["password"] == first
    assert oct((tmp_path / "state" / "password").stat().st_mode & 0o777) == "0o600"
    other = _announce(["--state-dir", str(tmp_path / "other")], tmp_path)["password"]
    assert other != first
    assert _announce([*state, "--password", "Rehearse-1234"], tmp_path)["password"] \
        == "Rehearse-1234"


def test_a_port_in_use_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "agent.cli", "simulate",
                               "panasonic-healthy", "--telnet", str(port), "--state-dir",
                               str(tmp_path / "state")], capture_output=True, text=True,
                              timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "cannot start the simulator's lines: Address already in use" in done.stderr
    assert "crash report" not in done.stderr and "Traceback" not in done.stderr
