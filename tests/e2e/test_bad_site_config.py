"""A site's own bad configuration is bad input, found before dialling (issue 12 #1, #6).

Each case once became a P1 "Total System Failure" ticket (a typo in a line URL), or an
"unreachable" exit 3 (a password variable not set). Now: exit 2, the inventory's file,
line and column, no run folder, no ticket; in a fleet only that site is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import HEALTH_CHECK, PASSWORD, PASSWORD_VARIABLE, Site


def _assert_refused(site: Site, run_stderr: str, returncode: int, text: str) -> None:
    assert returncode == 2, run_stderr
    assert "Traceback" not in run_stderr
    assert text in run_stderr
    assert f"{site.inventory}:" in run_stderr  # located in the inventory
    assert not (site.output / "runs").exists()  # nothing dialled, no run folder
    if site.db.exists():
        listing = site.pbxdiag("tickets", "list", "--db", str(site.db))
        assert "FR-" not in listing.stdout


@pytest.mark.parametrize(("url", "text"), [
    ("telnet://127.0.0.1:{port}?baud=9600", "unknown option(s) baud for telnet://"),
    ("telnt://127.0.0.1:{port}", "unsupported line type 'telnt'"),
    ("ssh://INSTALLER@127.0.0.1:99999", "bad port"),
    ("modem:///dev/ttyS9", "modem URL needs the number to dial"),
    # trust on first use appends to known_hosts: never to any file the URL names
    ("ssh://INSTALLER@127.0.0.1:{port}?tofu=1&known_hosts=/etc/passwd",
     "known_hosts=/etc/passwd in a path URL must be in the inventory's folder or the data dir"),
])
def test_a_bad_path_url_is_exit_2_before_dialling(healthy_site: Site, url: str,
                                                    text: str) -> None:
    healthy_site.write_inventory(url.format(port=healthy_site.endpoint.port))
    run = healthy_site.run_health_check()
    _assert_refused(healthy_site, run.stderr, run.returncode, text)
    assert f"{healthy_site.inventory}:9:13:" in run.stderr  # the site's path entry


def test_a_password_variable_not_set_is_bad_input_not_unreachable(healthy_site: Site) -> None:
    env_without = {k: v for k, v in os.environ.items() if k != PASSWORD_VARIABLE}
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "agent.cli", "run", str(HEALTH_CHECK),
                          "--site", "acme-bolton", "--inventory", str(healthy_site.inventory),
                          "--db", str(healthy_site.db), "--output", str(healthy_site.output)],
                         env={**env_without, "XDG_DATA_HOME": str(healthy_site.workdir)},
                         capture_output=True, text=True, timeout=120, check=False)
    _assert_refused(healthy_site, run.stderr, run.returncode,
                    f"environment variable {PASSWORD_VARIABLE} (the site's password) is not set")


def _with_password_file(site: Site, mode: int) -> None:
    secret = site.workdir / "pbx.pw"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(mode)
    site.inventory.write_text(site.inventory.read_text().replace(
        f"password_env: {PASSWORD_VARIABLE}", "password_file: pbx.pw"))


def test_a_password_file_readable_by_others_is_refused(healthy_site: Site) -> None:
    _with_password_file(healthy_site, 0o644)
    run = healthy_site.run_health_check()
    _assert_refused(healthy_site, run.stderr, run.returncode, "is readable by others")


def test_a_private_password_file_is_accepted(healthy_site: Site) -> None:
    _with_password_file(healthy_site, 0o600)
    run = healthy_site.run_health_check()
    assert run.returncode == 0, run.stderr


def test_a_site_id_that_escapes_the_output_folder_is_refused(healthy_site: Site) -> None:
    text = healthy_site.inventory.read_text().replace("  acme-bolton:", "  x/../../escaped:")
    healthy_site.inventory.write_text(text)
    run = healthy_site.pbxdiag("run", str(HEALTH_CHECK), "--site", "x/../../escaped",
                               "--inventory", str(healthy_site.inventory), "--db",
                               str(healthy_site.db), "--output", str(healthy_site.output))
    _assert_refused(healthy_site, run.stderr, run.returncode, "may use only letters")
    assert not (healthy_site.workdir.parent / "escaped").exists()


def test_a_fleet_refuses_only_the_badly_configured_site(healthy_site: Site) -> None:
    good = healthy_site.inventory.read_text()
    port = healthy_site.endpoint.port
    bad = good.split("sites:\n")[1].replace("acme-bolton:", "acme-wigan:").replace(
        f"ssh://INSTALLER@127.0.0.1:{port}", f"telnet://127.0.0.1:{port}?baud=9600")
    healthy_site.inventory.write_text(good + bad)
    run = healthy_site.pbxdiag("fleet", str(HEALTH_CHECK), "--inventory",
                               str(healthy_site.inventory), "--db", str(healthy_site.db),
                               "--output", str(healthy_site.output), "--json")
    lines = {entry["site"]: entry for entry in map(json.loads, run.stdout.splitlines())}
    assert lines["acme-bolton"]["status"] == "passed" and lines["acme-bolton"]["exit"] == 0
    assert lines["acme-wigan"]["status"] == "refused" and lines["acme-wigan"]["exit"] == 2
    assert "unknown option(s) baud" in lines["acme-wigan"]["error"]
    assert run.returncode == 2  # the worst site's code
    runs = list((healthy_site.output / "runs").iterdir())
    assert [r.name for r in runs if "acme-wigan" in r.name] == []


def test_an_unreadable_inventory_refuses_the_whole_fleet(healthy_site: Site,
                                                         tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("sites: [\n")
    run = healthy_site.pbxdiag("fleet", str(HEALTH_CHECK), "--inventory", str(broken),
                               "--db", str(healthy_site.db), "--output",
                               str(healthy_site.output))
    assert run.returncode == 2 and f"{broken}:" in run.stderr
    assert not (healthy_site.output / "runs").exists()


def test_a_url_known_hosts_inside_the_inventory_folder_is_accepted(healthy_site: Site) -> None:
    kept = healthy_site.workdir / "known_hosts"
    healthy_site.write_inventory(f"ssh://INSTALLER@127.0.0.1:{healthy_site.endpoint.port}"
                                 f"?known_hosts={kept}")
    run = healthy_site.run_health_check()
    assert run.returncode == 0, run.stdout + run.stderr

