"""Progress on a terminal (issue 16 #6): run shows each step as it starts, fleet a bar with
done / failed / unreachable counts and a totals line; nothing when piped or with --json."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from .conftest import HEALTH_CHECK, PASSWORD, PASSWORD_VARIABLE, Site
from .test_fleet import fleet_inventory  # noqa: F401 - the fixture, shared

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def _on_pty(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the real CLI with stdout and stderr on a pseudo-terminal; all it printed."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", *args], env=env,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every holder of the slave side has closed it
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def _fleet_args(inventory: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["fleet", str(HEALTH_CHECK), "--inventory", str(inventory), "--concurrency", "2",
            "--db", str(tmp_path / "t.db"), "--output", str(tmp_path / "out"), *extra]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, PASSWORD_VARIABLE: PASSWORD, "XDG_DATA_HOME": str(tmp_path / "x"),
            "COLUMNS": "120"}


def test_fleet_on_a_terminal_shows_counts_and_totals(fleet_inventory: Path,  # noqa: F811
                                                    tmp_path: Path) -> None:
    code, shown = _on_pty(_fleet_args(fleet_inventory, tmp_path), _env(tmp_path))
    assert code == 3, shown
    assert "4/4" in shown and "1 failed" in shown and "1 unreachable" in shown, shown
    assert "totals: 4 sites: 2 passed, 1 failed, 1 unreachable" in shown, shown
    for site in ("site-a", "site-b", "site-c", "site-dead"):
        assert site in shown  # each site's own line is still printed
    assert PASSWORD not in shown


def test_fleet_with_json_on_a_terminal_shows_no_progress(fleet_inventory: Path,  # noqa: F811
                                                        tmp_path: Path) -> None:
    code, shown = _on_pty(_fleet_args(fleet_inventory, tmp_path, "--json"), _env(tmp_path))
    assert code == 3
    assert "totals:" not in shown and "unreachable ·" not in shown and "done" not in shown
    assert shown.count('"site":') == 4


def test_fleet_piped_shows_no_progress(fleet_inventory: Path, tmp_path: Path  # noqa: F811
                                       ) -> None:
    run = subprocess.run([sys.executable, "-m", "agent.cli",
                          *_fleet_args(fleet_inventory, tmp_path)], env=_env(tmp_path),
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 3
    assert "totals:" not in run.stdout + run.stderr
    assert "done" not in run.stderr and "4/4" not in run.stdout + run.stderr
    assert len(run.stdout.splitlines()) == 4


def _run_args(site: Site, *extra: str) -> list[str]:
    return ["run", str(HEALTH_CHECK), "--site", "acme-bolton", "--inventory",
            str(site.inventory), "--db", str(site.db), "--output", str(site.output), *extra]


def test_run_on_a_terminal_shows_each_step_as_it_starts(healthy_site: Site,
                                                        tmp_path: Path) -> None:
    code, shown = _on_pty(_run_args(healthy_site), _env(tmp_path))
    assert code == 0, shown
    assert f"trying ssh://INSTALLER@127.0.0.1:{healthy_site.endpoint.port}" in shown
    started = [line[4:] for line in shown.splitlines() if line.startswith("  > ")]
    assert started[:3] == ["System identity", "No major alarm active",
                           "Every card in service"], shown
    # shown as each starts: all of them before the summary that ends the run
    assert shown.index("  > " + started[-1]) < shown.index("Acme Ltd, Bolton")
    assert PASSWORD not in shown


def test_run_piped_or_json_shows_no_step_lines(healthy_site: Site, tmp_path: Path) -> None:
    piped = healthy_site.run_health_check()
    assert piped.returncode == 0
    assert "  > " not in piped.stdout + piped.stderr and "trying ssh" not in piped.stderr
    code, shown = _on_pty(_run_args(healthy_site, "--json"), _env(tmp_path))
    assert code == 0
    assert "  > " not in shown and "trying ssh" not in shown
