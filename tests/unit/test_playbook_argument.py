"""``pbxdiag run health-check``: a shipped playbook by its name; a file always wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.commands import playbook_argument
from agent.paths import SHIPPED_PLAYBOOKS


def test_a_shipped_name_is_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert playbook_argument("health-check") == SHIPPED_PLAYBOOKS / "health-check.yaml"


def test_a_file_here_wins_and_paths_are_taken_as_given(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "health-check").write_text("name: mine\n")
    assert playbook_argument("health-check") == Path("health-check")
    assert playbook_argument("mine.yaml") == Path("mine.yaml")
    assert playbook_argument("lib/health-check") == Path("lib/health-check")
    assert playbook_argument("no-such-playbook") == Path("no-such-playbook")
