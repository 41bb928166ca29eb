"""Defaults for --inventory and --db: command line, then environment, then config.yaml
(issue 19) — and `pbxdiag config` says which is in force and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def pbxdiag(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PBXDIAG_")}
    full = {**base, "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "XDG_DATA_HOME": str(tmp_path / "data"), **env}
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=full, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)


def settings(tmp_path: Path, **env: str) -> dict[str, dict[str, str]]:
    run = pbxdiag(tmp_path, "config", "--json", **env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_precedence_environment_over_config_file_over_default(tmp_path: Path) -> None:
    shown = settings(tmp_path)
    assert shown["db"] == {"value": str(tmp_path / "data" / "pbxdiag" / "tickets.db"),
                           "source": "default"}
    assert shown["inventory"]["source"] == "not set"
    config = tmp_path / "cfg" / "pbxdiag" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("inventory: sites.yaml\ndb: /srv/desk/tickets.db\n")
    shown = settings(tmp_path)
    assert shown["inventory"] == {"value": str(config.parent / "sites.yaml"),
                                  "source": f"config {config}"}
    assert shown["db"]["value"] == "/srv/desk/tickets.db"
    shown = settings(tmp_path, PBXDIAG_DB="/tmp/other.db", PBXDIAG_INVENTORY="/x/i.yaml")
    assert shown["db"] == {"value": "/tmp/other.db", "source": "environment PBXDIAG_DB"}
    assert shown["inventory"]["source"] == "environment PBXDIAG_INVENTORY"


def test_the_command_line_wins_and_the_defaults_reach_commands(tmp_path: Path) -> None:
    db_env = tmp_path / "env.db"
    listing = pbxdiag(tmp_path, "tickets", "list", PBXDIAG_DB=str(db_env))
    assert listing.returncode == 0, listing.stderr
    assert db_env.exists()  # the environment's register was the one opened
    db_cli = tmp_path / "cli.db"
    pbxdiag(tmp_path, "tickets", "list", "--db", str(db_cli), PBXDIAG_DB=str(db_env))
    assert db_cli.exists()


def test_a_missing_inventory_says_where_one_can_come_from(tmp_path: Path) -> None:
    run = pbxdiag(tmp_path, "run", "playbooks/health-check.yaml", "--site", "x")
    assert run.returncode == 2
    assert "--inventory is required (or set PBXDIAG_INVENTORY" in run.stderr


def test_a_broken_config_file_is_bad_input_at_its_line(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "pbxdiag" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("inventory: a.yaml\ncolour: blue\n")
    run = pbxdiag(tmp_path, "tickets", "list")
    assert run.returncode == 2
    assert f"{config}:2:1: unknown key 'colour'" in run.stderr
