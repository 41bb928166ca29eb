"""The front-line triage playbook end to end: answers in advance, real SSH, the simulator.

Standard input is /dev/null, as under cron: every question must be answered by
``--answer``, and a missing one is an error for its step, never a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import PASSWORD, PASSWORD_VARIABLE, REPO, Site

TRIAGE = REPO / "playbooks" / "front-line-triage.yaml"
ANSWERS = {
    "site_named": "Bolton office",
    "contact_name": "Jo Bloggs",
    "contact_number": "01204368634",
    "description": "Nobody can ring out; calls between desks are fine",
    "extensions_affected": "all",
    "internal_calls_work": "yes",
    "recorded_message_heard": "yes",
    "recorded_message": "The number you have dialled has not been recognised",
    "power_cut": "yes",
    "surge": "no",
    "power_cycled": "yes",
    "power_cycle_result": "no_change",
}


def triage(site: Site, answers: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PASSWORD_VARIABLE: PASSWORD, "XDG_DATA_HOME": str(site.workdir / "xdg")}
    flags = [arg for key, value in answers.items() for arg in ("--answer", f"{key}={value}")]
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", str(TRIAGE), "--site", "acme-bolton",
         "--inventory", str(site.inventory), "--db", str(site.db), "--output",
         str(site.output), *flags, *extra],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        check=False)


def test_triage_records_the_answers_and_runs_the_checks_they_point_to(faulty_site: Site) -> None:
    run = triage(faulty_site, ANSWERS, "--json")
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    assert result["answers"] == {**ANSWERS, "internal_calls_work": True,
                                 "recorded_message_heard": True, "power_cut": True,
                                 "surge": False, "power_cycled": True}
    steps = {step["name"]: step for step in result["steps"]}
    assert steps["Which extensions"]["status"] == "skipped"  # all of them are affected
    assert steps["Recorded message words"]["message"].endswith("(given in advance)")
    assert steps["External calls possible"]["status"] == "failed"  # from the include
    assert steps["Internal calls possible"]["status"] == "ok"
    assert steps["The extensions the caller named"]["status"] == "skipped"
    assert steps["Error log around the power event"]["status"] == "ok"
    assert result["facts"]["error_log"], "the power question fetched the error log"
    assert result["check_mode"] is False and result["half_programmed"] is False
    saved = json.loads((Path(result["transcript"]).parent / "result.json").read_text())
    assert saved["answers"]["recorded_message"] == ANSWERS["recorded_message"]


def test_triage_summary_files_a_p2_ticket(faulty_site: Site) -> None:
    run = triage(faulty_site, ANSWERS)
    assert run.returncode == 1, run.stderr
    assert "Front-line triage" in run.stdout
    assert "P2 Major System Failure" in run.stdout
    assert "opened" in run.stdout


def test_one_extension_on_a_healthy_site_passes(healthy_site: Site) -> None:
    answers = {**ANSWERS, "extensions_affected": "one", "affected_extensions": "201",
               "recorded_message_heard": "no", "power_cut": "no", "power_cycled": "no"}
    del answers["internal_calls_work"], answers["recorded_message"]
    del answers["power_cycle_result"]
    run = triage(healthy_site, answers, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    steps = {step["name"]: step["status"] for step in json.loads(run.stdout)["steps"]}
    assert steps["The extensions the caller named"] == "ok"
    assert steps["Error log around the power event"] == "skipped"
    assert steps["Internal calls"] == "skipped"


def test_a_missing_answer_without_a_terminal_is_bad_input_before_dialling(
        healthy_site: Site) -> None:
    answers = {key: value for key, value in ANSWERS.items() if key != "surge"}
    run = triage(healthy_site, answers, "--json")
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'step "Power surge": no answer for \'surge\' and nobody to ask' in run.stderr
    assert "give --answer surge=..." in run.stderr
    assert run.stdout == ""
    assert not healthy_site.output.exists()  # nothing dialled, no run folder


def test_an_unknown_answer_key_is_bad_input_before_dialling(healthy_site: Site) -> None:
    run = triage(healthy_site, {**ANSWERS, "powercut": "yes"})
    assert run.returncode == 2
    assert "no question has the answer key powercut" in run.stderr
    assert not healthy_site.output.exists()
