"""One fault, one ticket, whichever playbook found it; an all-clear only from proof
(issue 12, "Done when" scenario) — through the real CLI, over SSH, against a live
simulator whose faults are injected and repaired while the test runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from agent.tickets import Register

from .conftest import HEALTH_CHECK, PASSWORD, PASSWORD_VARIABLE, REPO, Site

PLAYBOOKS = REPO / "playbooks"
TRIAGE_ANSWERS = {
    "site_named": "Bolton office", "contact_name": "Jo Bloggs",
    "contact_number": "01204368634", "description": "Reception and sales phones are dead",
    "extensions_affected": "some", "affected_extensions": "201, 202",
    "recorded_message_heard": "no", "power_cut": "no", "surge": "no",
    "power_cycled": "no",
}
VERSION_ONLY = """\
name: Version only
steps:
  - name: Software version
    get: system_info
    expect: ["result.model != ''"]
"""


def run(site: Site, playbook: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PASSWORD_VARIABLE: PASSWORD, "XDG_DATA_HOME": str(site.workdir / "x")}
    return subprocess.run([sys.executable, "-m", "agent.cli", "run", str(playbook), "--site",
                           "acme-bolton", "--inventory", str(site.inventory), "--db",
                           str(site.db), "--output", str(site.output), "--json", *extra],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120, check=False)


def open_tickets(site: Site) -> list[tuple[str, str, str]]:
    with Register(site.db) as register:
        return [(t.ref, t.signature, t.priority)
                for t in register.list_tickets(open_only=True)]


def occurrences(site: Site, ref: str) -> list[tuple[str, str | None]]:
    with Register(site.db) as register:
        return [(o.kind, o.playbook) for o in register.occurrences(ref)]


def test_one_dead_card_seen_by_every_playbook_is_one_ticket(healthy_site: Site,
                                                            tmp_path: Path) -> None:
    pbx = healthy_site.pbx
    pbx.inject_fault("dead_card", slot=1, code=231)  # the DLC16: extensions 201-216

    answers = [a for k, v in TRIAGE_ANSWERS.items() for a in ("--answer", f"{k}={v}")]
    for playbook, extra in ((HEALTH_CHECK, ()), (PLAYBOOKS / "front-line-triage.yaml",
                                                 tuple(answers)),
                            (PLAYBOOKS / "pre-visit.yaml", ())):
        done = run(healthy_site, playbook, *extra)
        assert done.returncode == 1, (playbook.name, done.stderr, done.stdout[-2000:])
    fleet = subprocess.run(
        [sys.executable, "-m", "agent.cli", "fleet", str(HEALTH_CHECK), "--inventory",
         str(healthy_site.inventory), "--db", str(healthy_site.db), "--output",
         str(healthy_site.output), "--var", "scheduled=true"],
        env={**os.environ, PASSWORD_VARIABLE: PASSWORD,
             "XDG_DATA_HOME": str(healthy_site.workdir / "x")},
        capture_output=True, text=True, timeout=120, check=False)
    assert fleet.returncode == 1, fleet.stderr

    tickets = open_tickets(healthy_site)
    assert [(sig, pri) for _, sig, pri in tickets] == [
        ("component:extensions/cab 1 slot 01", "P3")]
    card_ref = tickets[0][0]
    # run --json says what the register did, as fleet --json does (issue 12 #7)
    report = json.loads(run(healthy_site, HEALTH_CHECK).stdout)
    assert [(t["ref"], t["action"], t["priority"], t["identity"]) for t in report["tickets"]] \
        == [(card_ref, "occurrence", "P3", "extension-card-down @ extensions / cab 1 slot 01")]
    assert report["tickets"][0]["response_due"] and report["cleared"] == []
    seen = occurrences(healthy_site, card_ref)
    assert [kind for kind, _ in seen] == ["fault"] * 5  # one occurrence per run
    assert len({playbook for _, playbook in seen}) == 3  # which playbook saw it, each time

    # a playbook that does not look at the cards says nothing about the card
    version_only = tmp_path / "version-only.yaml"
    version_only.write_text(VERSION_ONLY)
    assert run(healthy_site, version_only).returncode == 0
    assert open_tickets(healthy_site) == tickets
    assert [kind for kind, _ in occurrences(healthy_site, card_ref)] == ["fault"] * 5

    # one dead trunk as well is a second, separate fault
    pbx.inject_fault("trunk_busied_out", co=1)
    assert run(healthy_site, HEALTH_CHECK).returncode == 1
    tickets = open_tickets(healthy_site)
    assert len(tickets) == 2
    trunk_ref, trunk_sig, trunk_pri = next(t for t in tickets if t[0] != card_ref)
    assert (trunk_sig, trunk_pri) == ("component:trunks/cab 1 slot 03/port 01", "P3")

    # then the whole trunk card dies, all trunks down: that ticket is upgraded and
    # widened, not a third
    pbx.inject_fault("dead_card", slot=3)
    done = run(healthy_site, HEALTH_CHECK)
    assert done.returncode == 1
    tickets = open_tickets(healthy_site)
    assert len(tickets) == 2
    trunk = next(t for t in tickets if t[0] == trunk_ref)
    assert trunk[1:] == ("component:trunks", "P2")

    # the extension card repaired: that ticket's all-clear, once; the trunk ticket stays
    pbx.clear_fault("dead_card", slot=1, code=231)
    done = run(healthy_site, HEALTH_CHECK)
    assert done.returncode == 1  # the trunks are still down
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    kinds = [kind for kind, _ in occurrences(healthy_site, card_ref)]
    assert kinds.count("all_clear") == 1 and kinds[-1] == "all_clear"
    assert [k for k, _ in occurrences(healthy_site, trunk_ref)][-1] == "fault"
    assert {ref for ref, _, _ in open_tickets(healthy_site)} == {card_ref, trunk_ref}
