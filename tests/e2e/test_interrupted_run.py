"""Ctrl-C during a run: exit 130, and the run is still recorded — a result marked
interrupted, the transcript (redacted), the line released — with nothing filed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.tickets import Register

from .conftest import PASSWORD, PASSWORD_VARIABLE, Site

SLOW = """\
name: Slow
steps:
  - name: Alarms first
    get: alarms
  - name: Wait for something that never comes
    wait: {get: trunks, until: "result | length > 1000", timeout: 120, interval: 1}
"""
DEADLINE = 60.0


def test_ctrl_c_mid_run_exits_130_and_leaves_the_run_recorded(healthy_site: Site,
                                                              tmp_path: Path) -> None:
    playbook = tmp_path / "slow.yaml"
    playbook.write_text(SLOW)
    env = {**os.environ, PASSWORD_VARIABLE: PASSWORD, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "run", str(playbook), "--site", "acme-bolton",
         "--inventory", str(healthy_site.inventory), "--db", str(healthy_site.db),
         "--output", str(healthy_site.output)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    log = healthy_site.output / "pbxdiag.log"
    deadline = time.monotonic() + DEADLINE
    while "Alarms first" not in (log.read_text() if log.exists() else ""):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the first step never finished"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=DEADLINE)

    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    (folder,) = (healthy_site.output / "runs").iterdir()
    assert f"what was done is recorded in {folder / 'result.json'}" in err
    result = json.loads((folder / "result.json").read_text())
    assert result["interrupted"] is True and result["status"] == "error"
    assert [s["name"] for s in result["steps"]][:1] == ["Alarms first"]
    transcript = (folder / "transcript.jsonl").read_text()
    assert "alarm" in transcript.lower() or "ALARM" in transcript  # what was said is kept
    assert PASSWORD not in transcript and PASSWORD not in json.dumps(result)
    assert result["bytes_out"] > 0  # the line was used and then released (closed)
    with Register(healthy_site.db) as register:
        assert register.list_tickets() == []
