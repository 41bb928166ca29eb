"""The desk's own mistakes are bad input, found before dialling; a change that cannot be made
is the engineer's (exit 4), never a customer's fault ticket. Real CLI, real SSH, both vendors.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO
from .test_programming_changes import VENDORS, VendorSite, _vendor_site, steps

PLAYBOOKS = REPO / "playbooks"


@pytest.fixture(params=VENDORS)
def vendor_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VendorSite]:
    vendor: str = request.param
    yield from _vendor_site(f"{vendor}-healthy", vendor, tmp_path)


def tickets_in(site: VendorSite) -> int:
    if not site.db.exists():
        return 0
    with sqlite3.connect(site.db) as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    return count


def assert_refused_before_dialling(run: subprocess.CompletedProcess[str], site: VendorSite,
                                   *said: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    for text in said:
        assert text in run.stderr
    assert "Traceback" not in run.stderr
    assert not site.output.exists()  # no run folder: nothing was dialled
    assert tickets_in(site) == 0


def test_a_required_var_left_out_is_refused_before_dialling(vendor_site: VendorSite) -> None:
    run = vendor_site.run("rename-extension.yaml", extension=201)
    assert_refused_before_dialling(run, vendor_site, "var 'name' is required",
                                   "--var name=...")


def test_every_missing_var_is_listed_at_once(vendor_site: VendorSite) -> None:
    run = vendor_site.run("rename-extension.yaml")
    assert_refused_before_dialling(run, vendor_site, "var 'extension' is required",
                                   "var 'name' is required")


def test_a_var_given_as_null_is_missing(vendor_site: VendorSite) -> None:
    run = vendor_site.run("busy-out-trunk.yaml", trunk="null")
    assert_refused_before_dialling(run, vendor_site, "var 'trunk' is required")


def test_an_answer_outside_its_choices_is_refused_before_dialling(
        vendor_site: VendorSite) -> None:
    run = vendor_site.pbxdiag(
        "run", str(PLAYBOOKS / "front-line-triage.yaml"), "--site", "acme-bolton",
        "--inventory", str(vendor_site.inventory), "--db", str(vendor_site.db),
        "--output", str(vendor_site.output), "--answer", "extensions_affected=many")
    assert_refused_before_dialling(
        run, vendor_site, 'step "Extensions affected": --answer extensions_affected: answer '
        "one of all, some, one, not 'many'")


def test_a_record_field_typo_is_found_by_validate_and_before_dialling(
        vendor_site: VendorSite, tmp_path: Path) -> None:
    playbook = tmp_path / "typo.yaml"
    playbook.write_text("name: Typo\nsteps:\n  - name: CO lines in service\n"
                        "    get: trunks\n    expect:\n"
                        '      - all_match(result, stat="in_service")\n')
    validate = vendor_site.pbxdiag("playbook", "validate", str(playbook))
    assert validate.returncode == 2
    assert f'{playbook}:6:9: all_match(): trunks records have no field "stat"' in \
        validate.stdout + validate.stderr
    assert "(fields: busied_out, kind, location, number, state)" in \
        validate.stdout + validate.stderr
    run = vendor_site.pbxdiag("run", str(playbook), "--site", "acme-bolton", "--inventory",
                              str(vendor_site.inventory), "--db", str(vendor_site.db),
                              "--output", str(vendor_site.output))
    assert_refused_before_dialling(run, vendor_site, 'records have no field "stat"')


def test_a_change_to_an_extension_that_does_not_exist_is_a_failed_change_not_a_fault(
        vendor_site: VendorSite) -> None:
    run, result = vendor_site.run_json("rename-extension.yaml", "--apply", extension=9999,
                                       name="Nobody")
    assert run.returncode == 4, run.stdout + run.stderr
    assert result["tickets"] == [] and tickets_in(vendor_site) == 0
    step = steps(result)["Extension name"]
    assert step["status"] == "error" and step["cause"] == "reply"
    assert "nothing written" in step["message"]
    text = vendor_site.run("rename-extension.yaml", "--apply", extension=9999, name="Nobody")
    assert text.returncode == 4
    assert "PROGRAMMING CHANGE NOT MADE AS ASKED" in text.stdout
    assert "  fault:" not in text.stdout and "ticket:" not in text.stdout


def test_a_failed_precondition_of_a_change_is_exit_4_and_files_nothing(
        vendor_site: VendorSite) -> None:
    run, result = vendor_site.run_json("busy-out-trunk.yaml", "--apply", trunk=99)
    assert run.returncode == 4, run.stdout + run.stderr
    assert steps(result)["Another CO line stays usable"]["status"] == "failed"
    assert steps(result)["CO line busied out"]["status"] == "skipped"
    assert result["tickets"] == [] and tickets_in(vendor_site) == 0


def test_run_json_of_a_bad_input_run_prints_nothing_on_stdout(vendor_site: VendorSite) -> None:
    run = vendor_site.run("rename-extension.yaml", "--json")
    assert run.returncode == 2
    assert run.stdout == ""
    with pytest.raises(json.JSONDecodeError):
        json.loads(run.stdout)
