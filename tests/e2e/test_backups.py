"""Backup history end to end: real CLI, real SSH simulator, real files.

Two pre-visit runs with a rename between them show the rename in ``backups diff``; the
``--apply`` rename itself took a backup first; ``backups restore`` shows the old name in
check mode and writes it back with ``--apply``, verified by reading the PBX."""

from __future__ import annotations

import json

from tests.e2e.conftest import REPO, Site

PRE_VISIT = str(REPO / "playbooks" / "pre-visit.yaml")
RENAME = str(REPO / "playbooks" / "rename-extension.yaml")


def _run(site: Site, playbook: str, *extra: str) -> None:
    done = site.pbxdiag("run", playbook, "--site", "acme-bolton", "--inventory",
                        str(site.inventory), "--db", str(site.db), "--output",
                        str(site.output), *extra)
    assert done.returncode in (0, 1), done.stderr


def _backups(site: Site, *args: str) -> str:
    done = site.pbxdiag("backups", *args, "--site", "acme-bolton", "--output", str(site.output))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_rename_between_two_pre_visits_shows_in_the_diff_and_restore_puts_it_back(
        healthy_site: Site) -> None:
    site = healthy_site
    _run(site, PRE_VISIT)
    _run(site, PRE_VISIT)  # same programming (the clock aside): no new revision
    revisions = json.loads(_backups(site, "list", "--json"))
    assert [r["number"] for r in revisions] == [1]
    assert revisions[0]["source"] == "backup step"

    _run(site, RENAME, "--apply", "--var", "extension=201", "--var", "name=Front Desk")
    assert site.pbx.extension("201").name == "Front Desk"
    revisions = json.loads(_backups(site, "list", "--json"))
    # the --apply run backed the PBX up before renaming (same text as r1: not stored twice)
    assert [r["source"] for r in revisions] == ["backup step"]
    _run(site, PRE_VISIT)
    revisions = json.loads(_backups(site, "list", "--json"))
    assert [r["number"] for r in revisions] == [1, 2]

    diff = json.loads(_backups(site, "diff", "--json"))
    assert diff["changes"] == [{"address": "004 201", "before": '"Reception"',
                                "after": '"Front Desk"'}]
    # the second pre-visit's pack shows the change too
    pack = (site.output / "packs" / "acme-bolton-pre-visit.md").read_text()
    assert '| 004 201 | "Reception" | "Front Desk" |' in pack
    text = _backups(site, "diff", "1", "2")
    assert '004 201: "Reception" → "Front Desk"' in text
    assert "000" not in text.replace("r1", "").split("ignored", 1)[1]  # the clock is left out

    shown = site.pbxdiag("backups", "restore", "1", "--site", "acme-bolton", "--inventory",
                         str(site.inventory), "--db", str(site.db), "--output", str(site.output))
    assert shown.returncode == 0, shown.stderr + shown.stdout
    assert "changed Restore extension_name 201 (r1)" in shown.stdout
    assert "check mode" in shown.stdout
    assert site.pbx.extension("201").name == "Front Desk"  # check mode wrote nothing

    done = site.pbxdiag("backups", "restore", "1", "--apply", "--site", "acme-bolton",
                        "--inventory", str(site.inventory), "--db", str(site.db),
                        "--output", str(site.output))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "changed Restore extension_name 201 (r1)" in done.stdout
    assert "extension_name 201: 'Front Desk' → 'Reception'" in done.stdout
    assert site.pbx.extension("201").name == "Reception"
    # the restored state is r1's again: the backup after the restore matches it
    diff = json.loads(_backups(site, "diff", "1", "latest", "--json"))
    assert diff["changes"] == []


def test_a_revision_that_does_not_exist_is_bad_input(healthy_site: Site) -> None:
    site = healthy_site
    done = site.pbxdiag("backups", "diff", "7", "--site", "acme-bolton",
                        "--output", str(site.output))
    assert done.returncode == 2
    assert "no backups yet" in done.stderr
    assert "Traceback" not in done.stderr
