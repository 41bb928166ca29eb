"""Bad input: one clear `file:line: message` line, exit 2, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

from .conftest import HEALTH_CHECK, Site


def test_malformed_playbook_exits_2_with_file_and_line(faulty_site: Site, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: Broken\nsteps:\n  - name: Alarms\n    gett: alarms\n")
    run = faulty_site.pbxdiag("run", str(broken), "--site", "acme-bolton", "--inventory",
                              str(faulty_site.inventory), "--db", str(faulty_site.db))
    assert run.returncode == 2
    assert f"{broken}:4:5:" in run.stderr
    assert "Traceback" not in run.stderr
    assert not faulty_site.db.exists()


def test_malformed_inventory_exits_2_with_file_and_line(faulty_site: Site) -> None:
    faulty_site.inventory.write_text("sites:\n  acme:\n    customer: Acme\n    vendor: panasonic\n"
                                     "    paths: [ssh://x]\n    colour: blue\n")
    run = faulty_site.pbxdiag("run", str(HEALTH_CHECK), "--site", "acme", "--inventory",
                              str(faulty_site.inventory), "--db", str(faulty_site.db))
    assert run.returncode == 2
    assert f"{faulty_site.inventory}:6:5: unknown key 'colour'" in run.stderr
    assert "Traceback" not in run.stderr


def test_unknown_site_and_vendor_are_bad_input(faulty_site: Site) -> None:
    run = faulty_site.pbxdiag("run", str(HEALTH_CHECK), "--site", "nowhere", "--inventory",
                              str(faulty_site.inventory), "--db", str(faulty_site.db))
    assert run.returncode == 2
    assert "no site 'nowhere'" in run.stderr
    faulty_site.inventory.write_text(faulty_site.inventory.read_text().replace(
        "vendor: panasonic", "vendor: siemens"))
    run = faulty_site.pbxdiag("run", str(HEALTH_CHECK), "--site", "acme-bolton", "--inventory",
                              str(faulty_site.inventory), "--db", str(faulty_site.db))
    assert run.returncode == 2
    assert "no driver for vendor 'siemens'" in run.stderr


def test_unknown_ticket_is_bad_input(faulty_site: Site) -> None:
    run = faulty_site.pbxdiag("tickets", "show", "FR-2026-999999", "--db", str(faulty_site.db))
    assert run.returncode == 2
    assert "FR-2026-999999" in run.stderr


def test_missing_arguments_exit_2(faulty_site: Site) -> None:
    run = faulty_site.pbxdiag("run", str(HEALTH_CHECK))
    assert run.returncode == 2
    assert "--site" in run.stderr
