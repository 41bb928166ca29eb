"""``pbxdiag smdr parse --inventory F --site ID``: the site's SMDR pin (inventory
``smdr:``) and vendor read the file, through the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TWELVE_HOUR = REPO / "tests" / "fixtures" / "smdr" / "panasonic-a-12h.txt"
INVENTORY = """\
sites:
  us-office:
    customer: Acme Inc
    vendor: panasonic
    paths: ["tcp://127.0.0.1:2300"]
    smdr: {layout: A, date_order: MDY, time: 12h}
  misconfigured:
    customer: Acme Inc
    vendor: panasonic
    paths: ["tcp://127.0.0.1:2300"]
    smdr: {time: 24h}
  unpinned:
    customer: Acme Inc
    vendor: panasonic
    paths: ["tcp://127.0.0.1:2300"]
"""


def pbxdiag(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("PBXDIAG_INVENTORY", None)
    return subprocess.run([sys.executable, "-m", "agent.cli", "smdr", "parse", *args],
                          capture_output=True, text=True, timeout=60, check=False,
                          cwd=tmp_path, env=env)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """An inventory, and a 12-hour pattern-A log whose dates (all fields ≤ 12) do not
    tell their order."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    log = tmp_path / "smdr.log"
    log.write_text(TWELVE_HOUR.read_text().replace("13/02/26", "12/02/26")
                   .replace("14/02/26", "11/02/26"))
    return inventory, log


def first_record(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    got = [json.loads(line) for line in run.stdout.splitlines()]
    return next(o["record"] for o in got if "record" in o)


def test_the_site_pin_gives_the_date_order_the_stream_cannot(
        files: tuple[Path, Path], tmp_path: Path) -> None:
    inventory, log = files
    pinned = pbxdiag(tmp_path, str(log), "--inventory", str(inventory), "--site", "us-office",
                     "--json")
    assert pinned.returncode == 0, pinned.stderr
    assert first_record(pinned)["at"] == "2026-12-02T10:03:00"  # MM/DD: 2 December
    assert "date order MDY" in pinned.stderr and "assumed" not in pinned.stderr
    unpinned = pbxdiag(tmp_path, str(log), "--inventory", str(inventory), "--site",
                       "unpinned", "--json")
    assert unpinned.returncode == 0, unpinned.stderr
    assert first_record(unpinned)["at"] == "2026-02-12T10:03:00"  # the layout's default
    assert "date order DMY (assumed" in unpinned.stderr


def test_a_pin_the_file_contradicts_rejects_lines_and_options_win(
        files: tuple[Path, Path], tmp_path: Path) -> None:
    inventory, log = files
    wrong = pbxdiag(tmp_path, str(log), "--inventory", str(inventory), "--site",
                    "misconfigured", "--json")
    assert wrong.returncode == 1
    errors = [json.loads(line).get("error", "") for line in wrong.stdout.splitlines()]
    assert sum("is not 24h as the site is pinned" in e for e in errors) == 10
    overridden = pbxdiag(tmp_path, str(log), "--inventory", str(inventory), "--site",
                         "misconfigured", "--time", "12h", "--json")
    assert overridden.returncode == 0, overridden.stderr


@pytest.mark.parametrize(("args", "fragment"), [
    (["--site", "us-office"], "--site needs --inventory"),
    (["--inventory", "inventory.yaml", "--site", "nowhere"], "no site 'nowhere'"),
    (["--inventory", "inventory.yaml", "--site", "us-office", "--vendor", "toshiba"],
     "--vendor toshiba but site 'us-office' is panasonic"),
    (["--inventory", "bad.yaml", "--site", "us-office"],
     "bad.yaml:6:20: site 'us-office': layout R1.03 is not a panasonic layout"),
])
def test_bad_site_input_exits_2_with_one_line(files: tuple[Path, Path], tmp_path: Path,
                                              args: list[str], fragment: str) -> None:
    (tmp_path / "bad.yaml").write_text(INVENTORY.replace("layout: A", "layout: R1.03"))
    run = pbxdiag(tmp_path, "smdr.log", *args)
    assert run.returncode == 2
    assert fragment in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
