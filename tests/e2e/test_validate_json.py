"""`playbook validate --json` and `inventory validate --json` (issue 19): one JSON report,
every problem as {file, line, column, message}, the same exit codes as the text mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HEALTH = REPO / "playbooks" / "health-check.yaml"
BAD_PLAYBOOK = "name: x\nsteps:\n  - name: a\n    get: nosuch\n    bogus: 1\n"
GOOD_INVENTORY = """\
sites:
  acme-bolton: {customer: Acme Ltd, name: Bolton, vendor: panasonic,
                paths: ["telnet://127.0.0.1:2300"]}
"""
BAD_INVENTORY = """\
sites:
  acme-bolton: {customer: Acme Ltd, name: Bolton, vendor: panasonic,
                paths: ["gopher://127.0.0.1"]}
"""


def pbxdiag(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBXDIAG_")}
    run = subprocess.run([sys.executable, "-m", "agent.cli", *args],
                         env={**env, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in run.stderr
    return run.returncode, json.loads(run.stdout), run.stderr


def test_playbook_validate_json_lists_every_problem_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_PLAYBOOK)
    missing = tmp_path / "missing.yaml"
    code, report, _ = pbxdiag(tmp_path, "playbook", "validate", "--json", str(HEALTH),
                              str(bad), str(missing))
    assert code == 2
    assert report["ok"] is False
    assert [entry["file"] for entry in report["files"]] == [str(HEALTH), str(bad),
                                                            str(missing)]
    assert report["files"][0] == {"file": str(HEALTH), "ok": True, "name": "Health check",
                                  "steps": report["files"][0]["steps"]}
    problems = report["problems"]
    assert all(set(problem) == {"file", "line", "column", "message"} for problem in problems)
    assert [(p["file"], p["line"], p["column"]) for p in problems[:2]] == [
        (str(bad), 4, 10), (str(bad), 5, 5)]
    assert "nosuch" in problems[0]["message"] and "bogus" in problems[1]["message"]
    assert problems[2]["file"] == str(missing) and problems[2]["line"] is None


def test_playbook_validate_json_all_valid_exits_0(tmp_path: Path) -> None:
    code, report, stderr = pbxdiag(tmp_path, "playbook", "validate", "--json", str(HEALTH))
    assert (code, report["ok"], report["problems"], stderr) == (0, True, [], "")


def test_inventory_validate_json_lists_every_problem_located(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD_INVENTORY)
    bad.write_text(BAD_INVENTORY)
    code, report, _ = pbxdiag(tmp_path, "inventory", "validate", "--json", str(good),
                              str(bad))
    assert code == 2
    assert report["ok"] is False
    assert report["files"][0] == {"file": str(good), "ok": True, "sites": 1}
    assert report["files"][1]["ok"] is False
    problems = report["problems"]
    assert [(p["file"], p["line"], p["column"]) for p in problems] == [(str(bad), 3, 25)]
    assert all(set(p) == {"file", "line", "column", "message"} for p in problems)
    assert "unsupported line type 'gopher'" in problems[0]["message"]
    code, report, _ = pbxdiag(tmp_path, "inventory", "validate", "--json", str(good))
    assert (code, report["ok"], report["problems"]) == (0, True, [])
