"""The runner dials only when a step needs the PBX: questions never hold a customer line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.inventory import Site, load_inventory
from agent.playbook import RunOptions, parse_playbook
from agent.result import RunStatus, StepStatus
from agent.runner import run_site, site_clock, with_site_clock

INVENTORY = """\
contracts:
  standard:
    calendar: {nation: england, timezone: Europe/London}
sites:
  acme:
    customer: Acme Ltd
    vendor: panasonic
    paths: ["ssh://INSTALLER@127.0.0.1:1"]
    timeout: 2
    credentials: {username: INSTALLER, password_env: PBXDIAG_RUNNER_TEST}
"""
QUESTION = ("  - name: Power cut\n    ask: {key: power_cut, type: yes_no, "
            "question: 'Power cut?'}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("PBXDIAG_RUNNER_TEST", "not-used")
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    return load_inventory(path).site("acme")


def test_a_playbook_of_questions_never_dials(site: Site, tmp_path: Path) -> None:
    playbook = parse_playbook("name: Q\nsteps:\n" + QUESTION)
    result, files = run_site(site, playbook, output_dir=tmp_path,
                             options=RunOptions(answers={"power_cut": "no"}))
    assert result.status is RunStatus.PASSED
    assert result.paths_tried == [] and result.path is None
    assert result.answers == {"power_cut": False}
    assert files.result.exists()


def test_questions_are_recorded_before_an_unreachable_pbx(site: Site, tmp_path: Path) -> None:
    playbook = parse_playbook("name: Q\nsteps:\n" + QUESTION
                              + "  - name: Cards\n    get: cards\n")
    result, _ = run_site(site, playbook, output_dir=tmp_path,
                         options=RunOptions(answers={"power_cut": "yes"}))
    assert result.status is RunStatus.UNREACHABLE
    assert [(s.name, s.status) for s in result.steps] == [("Power cut", StepStatus.OK)]
    assert result.answers == {"power_cut": True}
    assert result.error is not None and result.error.startswith("no path reached the PBX")
    assert len(result.paths_tried) == 1


def test_the_site_calendar_gives_working_hours_and_zone(site: Site) -> None:
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    assert site_clock(site, monday_10)[0] is True
    assert site_clock(site, saturday)[0] is False
    assert site_clock(site, christmas)[0] is False
    assert str(site_clock(site, monday_10)[1]) == "Europe/London"
    given = RunOptions(in_working_hours=False)
    filled = with_site_clock(given, site)
    assert filled.in_working_hours is False and str(filled.timezone) == "Europe/London"
