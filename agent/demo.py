"""``pbxdiag demo``: the whole product on one simulated faulty PBX, in one process.

A Panasonic KX-TDE200 with a dead trunk card is served over real SSH on a free loopback
port; the shipped health check runs through the real stack and files a ticket in a
register under the demo's own directory — never the user's real one. The simulator's
host key persists there, so a second run verifies the same key and finds the same open
ticket.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from agent import logsetup
from agent.diagnose import Diagnosis, diagnose
from agent.inventory import load_inventory
from agent.paths import SHIPPED_PLAYBOOKS
from agent.playbook import load_playbook
from agent.reports.summary import render_summary

SCENARIO = "panasonic-dead-trunk-card"
SITE_ID = "acme-bolton"
PASSWORD_VARIABLE = "PBXDIAG_DEMO_PASSWORD"  # noqa: S105 - a variable name, not a password

_INVENTORY = """\
# Written by `pbxdiag demo`: one site, the simulator on a loopback port.
contracts:
  standard:
    major_response_hours: 4
    calendar:
      nation: england
sites:
  {site}:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    model: KX-TDE200
    contract: standard
    paths: ["ssh://INSTALLER@127.0.0.1:{port}"]
    known_hosts: known_hosts
    credentials:
      username: INSTALLER
      password_env: {variable}
"""


def run_demo(output: Path) -> int:
    from simulators import load_scenario, serve_ssh

    output.mkdir(parents=True, exist_ok=True)
    logsetup.configure(log_file=output / "pbxdiag.log")
    password = secrets.token_urlsafe(12)
    os.environ[PASSWORD_VARIABLE] = password
    pbx = load_scenario(SCENARIO)
    with serve_ssh(pbx, host_key_path=output / "simulator" / "ssh_host_ed25519_key",
                   password=password) as endpoint:
        (output / "known_hosts").write_text(endpoint.known_hosts_line() + "\n")
        inventory = output / "inventory.yaml"
        inventory.write_text(_INVENTORY.format(site=SITE_ID, port=endpoint.port,
                                               variable=PASSWORD_VARIABLE))
        site = load_inventory(inventory).site(SITE_ID)
        playbook = load_playbook(SHIPPED_PLAYBOOKS / "health-check.yaml")
        diagnosis = diagnose(site, playbook, output_dir=output, db_path=output / "tickets.db")
    print(_header(output, endpoint.port))
    print(render_summary(diagnosis))
    print(_footer(output, diagnosis))
    return 0 if diagnosis.filing.outcome is not None else 1


def _header(output: Path, port: int) -> str:
    return (f"pbxdiag demo — simulated Panasonic KX-TDE200 ({SCENARIO}) on SSH "
            f"127.0.0.1:{port}; files in {output}/\n")


def _footer(output: Path, diagnosis: Diagnosis) -> str:
    outcome = diagnosis.filing.outcome
    again = ("Run `make demo` again: the same fault adds an occurrence to this ticket "
             "instead of opening a new one." if outcome is not None and outcome.opened else
             "Same fault as last run: recorded on the open ticket, no duplicate.")
    db = output / "tickets.db"
    return (f"\n{again}\nSee the ticket:  .venv/bin/pbxdiag tickets show "
            f"{outcome.ticket.ref if outcome else 'REF'} --db {db}")
