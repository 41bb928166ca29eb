"""The vendor case pack end to end (issue 16 #5): a real pre-visit run against a simulated
PBX with a dead trunk card opens a ticket, a console session is tried on it, the ticket
is escalated to the manufacturer (which offers the pack), and `pbxdiag pack --ticket
--vendor-case` builds the zip: its listing, its index, and no secret in any file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.e2e.conftest import PASSWORD, PASSWORD_VARIABLE, REPO, Site

PRE_VISIT = str(REPO / "playbooks" / "pre-visit.yaml")


def _ok(done: subprocess.CompletedProcess[str], *codes: int) -> str:
    assert done.returncode in (codes or (0,)), done.stdout + done.stderr
    return done.stdout


def _ticket_from_pre_visit(site: Site) -> str:
    out = _ok(site.pbxdiag("run", PRE_VISIT, "--site", "acme-bolton", "--inventory",
                           str(site.inventory), "--db", str(site.db), "--output",
                           str(site.output), "--json"), 1)
    (ticket,) = json.loads(out)["tickets"]
    return str(ticket["ref"])


def _console(site: Site, ref: str) -> None:
    env_args = ["console", "--site", "acme-bolton", "--inventory", str(site.inventory),
                "--output", str(site.output), "--db", str(site.db), "--ticket", ref]
    done = subprocess.run([sys.executable, "-m", "agent.cli", *env_args], input="CO\n~.\n",
                          env={**os.environ, PASSWORD_VARIABLE: PASSWORD,
                               "XDG_DATA_HOME": str(site.workdir / "xdg")},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_vendor_case_pack_of_a_dead_card_ticket(faulty_site: Site, tmp_path: Path) -> None:
    """The whole path, with the ticket's audit trail naming the zip at the end."""
    site = faulty_site
    ref = _ticket_from_pre_visit(site)
    _console(site, ref)
    _ok(site.pbxdiag("tickets", "status", ref, "remote_diagnosis", "--db", str(site.db)))
    escalated = _ok(site.pbxdiag("tickets", "status", ref, "escalated_to_manufacturer",
                                 "--db", str(site.db)))
    assert f"pbxdiag pack --ticket {ref} --vendor-case" in escalated

    # An older transcript that kept the password in clear: the pack must mask it anyway.
    (run_dir,) = (site.output / "runs").iterdir()
    transcript = run_dir / "transcript.jsonl"
    transcript.write_text(transcript.read_text() + json.dumps(
        {"t": 9.9, "dir": "out", "data": f"{PASSWORD}\r"}) + "\n")

    out_dir = tmp_path / "case"
    built = _ok(site.pbxdiag("pack", "--ticket", ref, "--vendor-case", "--inventory",
                             str(site.inventory), "--db", str(site.db), "--data",
                             str(site.output), "--output", str(out_dir)))
    (zip_path,) = out_dir.glob("vendor-case-*.zip")
    assert str(zip_path) in built
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        texts = {name: archive.read(name).decode() for name in names}

    assert {"index.md", "index.html", "ticket.md", "system.md", "error-log.txt",
            "tried.md", "backup-r1.txt"} <= names
    transcripts = sorted(n for n in names if n.startswith("transcripts/"))
    assert any(n.startswith("transcripts/run-") for n in transcripts), names
    assert any(n.startswith("transcripts/console-") for n in transcripts), names
    for name in names - {"index.md", "index.html"}:  # the index lists every file
        assert f"| {name} |" in texts["index.md"] and f'href="{name}"' in texts["index.html"]

    assert "KX-TDE200" in texts["system.md"] and "5.0000" in texts["system.md"]
    assert "LCOT" in texts["system.md"]  # the dead trunk card in the card list
    assert texts["error-log.txt"].count("==") >= 2 and "MJ" in texts["error-log.txt"]
    assert ref in texts["ticket.md"] and "Panasonic" in texts["index.md"]
    assert "console session" in texts["tried.md"] and "pre-visit" in texts["tried.md"].lower()
    assert texts["backup-r1.txt"].strip()
    assert "********" in texts[next(n for n in transcripts if n.startswith("transcripts/run-"))]
    for name, text in texts.items():
        assert PASSWORD not in text, name

    shown = json.loads(_ok(site.pbxdiag("tickets", "show", ref, "--json", "--db",
                                        str(site.db))))
    audit = shown.get("audit") or shown.get("history") or []
    assert any(e["action"] == "vendor_case" and str(zip_path) in e["detail"] for e in audit)


def test_vendor_case_needs_a_known_ticket(faulty_site: Site, tmp_path: Path) -> None:
    done = faulty_site.pbxdiag("pack", "--ticket", "FR-2026-999999", "--vendor-case",
                               "--inventory", str(faulty_site.inventory), "--db",
                               str(faulty_site.db), "--output", str(tmp_path / "case"))
    assert done.returncode == 2 and "FR-2026-999999" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "case").exists()
