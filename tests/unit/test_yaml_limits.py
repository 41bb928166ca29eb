"""Hostile or broken YAML is bad input at its line and column, found fast (issue 13 #3).

Each case once made a loader raise a bare exception (TypeError, RecursionError,
ValueError) or stall for tens of seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import InventoryError
from agent.inventory import load_inventory
from agent.yamlguard import MAX_DEPTH, MAX_NODES, MAX_NUMBER_CHARS


def _bomb(levels: int = 9, fan: int = 10) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * fan)}]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * fan)}]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "deep flow nesting": ("sites:\n  a: " + "[" * 5000 + "]" * 5000 + "\n",
                          f"nested too deeply (limit {MAX_DEPTH} levels)", 2),
    "deep block nesting": ("sites:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(80))
                           + "  " * 81 + "v: 1\n", "nested too deeply", 65),
    "recursive anchor": ("sites: &s\n  a: *s\n", "recursive structure", 2),
    "long integer": ("sites: {}\nx: " + "7" * 5000 + "\n",
                     f"number too long: 5,000 characters (limit {MAX_NUMBER_CHARS})", 2),
    "billion laughs": (_bomb(), f"limit {MAX_NODES:,}", None),
    "control character": ("sites:\n  a\x07b: {}\n", "character U+0007", 2),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_inventory_is_bad_input_at_its_line(tmp_path: Path, name: str) -> None:
    text, message, line = HOSTILE[name]
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    err = caught.value
    assert message in err.message
    assert err.path == str(path) and err.column is not None
    if line is not None:
        assert err.line == line


def test_a_null_key_among_unknown_keys_is_reported_not_a_type_error(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("sites: {}\n~: 1\nzebra: 2\n", encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert "unknown key" in caught.value.message
    assert caught.value.line is not None


def test_the_cli_reports_a_hostile_inventory_with_exit_2_and_no_traceback(
        tmp_path: Path) -> None:
    inventory = tmp_path / "sites.yaml"
    inventory.write_text(_bomb(), encoding="utf-8")
    playbook = Path(__file__).resolve().parents[2] / "playbooks" / "health-check.yaml"
    run = subprocess.run([sys.executable, "-m", "agent.cli", "run", str(playbook),
                          "--site", "x", "--inventory", str(inventory),
                          "--output", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert f"{inventory}:" in run.stderr and "alias bomb" in run.stderr
    assert not (tmp_path / "out").exists()


def test_the_playbook_loader_applies_the_same_limits(tmp_path: Path) -> None:
    from agent.errors import PlaybookError
    from agent.playbook import load_playbook

    playbook = tmp_path / "bomb.yaml"
    playbook.write_text("name: x\n" + _bomb() + "steps: []\n", encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(playbook)
    assert "alias bomb" in caught.value.message and caught.value.line is not None
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: x\nsteps: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with pytest.raises(PlaybookError, match="nested too deeply"):
        load_playbook(deep)
