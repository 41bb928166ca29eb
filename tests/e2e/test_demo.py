"""`pbxdiag demo` twice: one ticket, then an occurrence on it — in its own directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def demo(output: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "agent.cli", "demo", "--output", str(output)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_demo_twice_opens_one_ticket(tmp_path: Path) -> None:
    output, home = tmp_path / "demo-output", tmp_path / "home"
    first = demo(output, home)
    assert first.returncode == 0, first.stderr
    assert "P2 Major System Failure" in first.stdout
    assert "Major fault" in first.stdout
    assert "response:  due" in first.stdout
    refs = re.findall(r"FR-\d{4}-\d{6}", first.stdout)
    assert refs and "opened" in first.stdout
    assert re.search(r"FAILED\s+External calls possible", first.stdout)
    assert re.search(r"ok\s+Internal calls possible", first.stdout)
    assert "result.json" in first.stdout
    assert "Traceback" not in first.stderr and "Socket exception" not in first.stderr

    second = demo(output, home)
    assert second.returncode == 0, second.stderr
    assert f"{refs[0]} already open — occurrence 2 recorded" in second.stdout
    assert (output / "tickets.db").exists()
    assert not home.exists()  # never the user's real register
