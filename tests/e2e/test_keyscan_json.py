"""`pbxdiag sites keyscan SITE --json` against the simulator's SSH server (issue 19:
--json on every command that reports something)."""

from __future__ import annotations

import json

from .conftest import Site


def test_keyscan_json_reports_what_it_did(healthy_site: Site) -> None:
    known_hosts = healthy_site.workdir / "known_hosts"
    known_hosts.unlink()
    args = ("sites", "keyscan", "acme-bolton", "--inventory", str(healthy_site.inventory),
            "--json")
    done = healthy_site.pbxdiag(*args, "--yes")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["site"] == "acme-bolton"
    assert report["action"] == "recorded"
    assert report["fingerprint"].startswith("SHA256:")
    assert report["known_hosts"] == str(known_hosts)
    assert report["type"] in known_hosts.read_text()
    again = json.loads(healthy_site.pbxdiag(*args, "--yes").stdout)
    assert again == {**report, "action": "already recorded"}
