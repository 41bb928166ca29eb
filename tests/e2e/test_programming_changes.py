"""Programming changes (`set` steps) end to end: CLI → real SSH → the simulator, both vendors.

Check mode writes nothing; ``--apply`` writes, reads back and verifies; a write the PBX
answers OK but does not keep (the ``programming_unreliable`` fault) is rolled back so the
PBX ends exactly as it started — or, when the rollback fails too, the run says the PBX
was left half-programmed. Every assertion about what changed is made on the simulator's
own state, not on what the CLI reports.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulators import PbxState

from .conftest import INVENTORY, PASSWORD_VARIABLE, REPO, Site, _serve

PLAYBOOKS = REPO / "playbooks"
VENDORS = ("panasonic", "toshiba")
NEW_NAME = "Front Desk"  # corrupted (last character lost) it is "Front Des"


@dataclass
class VendorSite(Site):
    """A site whose inventory names the simulated PBX's own vendor."""

    vendor: str = "panasonic"

    def write_inventory(self, path: str | None = None) -> None:
        url = path or f"ssh://INSTALLER@127.0.0.1:{self.endpoint.port}"
        text = INVENTORY.format(path=url, variable=PASSWORD_VARIABLE)
        self.inventory.write_text(text.replace("vendor: panasonic", f"vendor: {self.vendor}"))

    def run(self, playbook: str, *extra: str, **variables: str | int
            ) -> subprocess.CompletedProcess[str]:
        flags = [arg for key, value in variables.items() for arg in ("--var", f"{key}={value}")]
        return self.pbxdiag("run", str(PLAYBOOKS / playbook), "--site", "acme-bolton",
                            "--inventory", str(self.inventory), "--db", str(self.db),
                            "--output", str(self.output), *flags, *extra)

    def run_json(self, playbook: str, *extra: str, **variables: str | int
                 ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        run = self.run(playbook, "--json", *extra, **variables)
        return run, json.loads(run.stdout)


def _vendor_site(scenario: str, vendor: str, tmp_path: Path) -> Iterator[VendorSite]:
    for site in _serve(scenario, tmp_path):
        vendor_site = VendorSite(pbx=site.pbx, endpoint=site.endpoint, workdir=site.workdir,
                                 vendor=vendor)
        vendor_site.write_inventory()
        yield vendor_site


@pytest.fixture(params=VENDORS)
def vendor_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VendorSite]:
    vendor: str = request.param
    yield from _vendor_site(f"{vendor}-healthy", vendor, tmp_path)


@pytest.fixture
def locked_site(tmp_path: Path) -> Iterator[VendorSite]:
    yield from _vendor_site("panasonic-programming-locked", "panasonic", tmp_path)


# --- helpers ------------------------------------------------------------------------------


def programming(pbx: PbxState) -> dict[str, Any]:
    """Everything a programming write can change, independent of either dialect.

    The records are frozen dataclasses, so equality covers every field (names, PINs,
    forwarding, busy-outs) of every extension and CO line.
    """
    return {"extensions": pbx.extensions(), "co_lines": pbx.co_lines(),
            "time_service": pbx.time_service, "programs": pbx.program_values()}


def steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in result["steps"]}


def first_extension(pbx: PbxState) -> tuple[str, str]:
    ext = pbx.extensions()[0]
    assert ext.name != NEW_NAME and ext.name != NEW_NAME[:-1]
    return ext.number, ext.name


def transcript_writes(result: dict[str, Any]) -> list[str]:
    """The programming writes (Panasonic ``WRITE``, Toshiba ``PUT``) the run sent."""
    lines = Path(result["transcript"]).read_text().splitlines()[1:]  # after the header
    sent = [record["data"] for record in map(json.loads, lines) if record.get("dir") == "out"]
    return [text.strip() for text in sent if text.startswith(("WRITE ", "PUT "))]


# --- check mode and apply -----------------------------------------------------------------


def test_check_mode_shows_the_change_and_writes_nothing(vendor_site: VendorSite) -> None:
    pbx = vendor_site.pbx
    number, name = first_extension(pbx)
    before = programming(pbx)

    text = vendor_site.run("rename-extension.yaml", extension=number, name=NEW_NAME)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "would change (check mode, nothing written; --apply makes them):" in text.stdout
    assert f"extension_name {number}: {name!r} → {NEW_NAME!r}" in text.stdout

    run, result = vendor_site.run_json("rename-extension.yaml", extension=number, name=NEW_NAME)
    assert run.returncode == 0, run.stderr
    assert result["check_mode"] is True and result["half_programmed"] is False
    step = steps(result)["Extension name"]
    assert step["status"] == "changed"
    assert step["message"].startswith("check mode: would change")
    assert step["diff"] == {"setting": "extension_name", "target": number,
                            "before": name, "after": NEW_NAME}
    assert steps(result)["Extension list shows the new name"]["status"] == "skipped"
    assert transcript_writes(result) == []
    assert programming(pbx) == before
    assert pbx.extension(number).name == name


def test_apply_renames_then_a_second_run_writes_nothing(vendor_site: VendorSite) -> None:
    pbx = vendor_site.pbx
    number, name = first_extension(pbx)
    before = programming(pbx)

    run, result = vendor_site.run_json("rename-extension.yaml", "--apply", extension=number,
                                       name=NEW_NAME)
    assert run.returncode == 0, run.stdout + run.stderr
    assert result["status"] != "failed" and result["check_mode"] is False
    step = steps(result)["Extension name"]
    assert step["status"] == "changed"
    assert step["diff"] == {"setting": "extension_name", "target": number,
                            "before": name, "after": NEW_NAME}
    assert steps(result)["Extension list shows the new name"]["status"] == "ok"
    assert len(transcript_writes(result)) == 1
    assert pbx.extension(number).name == NEW_NAME
    renamed = programming(pbx)
    others = [e for e in renamed["extensions"] if e.number != number]
    assert others == [e for e in before["extensions"] if e.number != number]

    text = vendor_site.run("rename-extension.yaml", "--apply", extension=number, name=NEW_NAME)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "ok      Extension name" in text.stdout

    again, result = vendor_site.run_json("rename-extension.yaml", "--apply", extension=number,
                                         name=NEW_NAME)
    assert again.returncode == 0, again.stderr
    step = steps(result)["Extension name"]
    assert step["status"] == "ok" and "nothing written" in step["message"]
    assert step["diff"] is None
    assert transcript_writes(result) == []
    assert programming(pbx) == renamed


# --- a write the PBX does not keep --------------------------------------------------------


@pytest.mark.parametrize(("mode", "said"), [
    ("corrupt", "rolled back to"),  # the PBX kept "Front Des": the old name is written back
    ("ignore", "nothing to roll back"),  # the PBX kept the old name: nothing to write back
])
def test_a_write_that_does_not_stick_is_rolled_back_and_the_pbx_ends_as_it_started(
        vendor_site: VendorSite, mode: str, said: str) -> None:
    pbx = vendor_site.pbx
    number, name = first_extension(pbx)
    pbx.inject_fault("programming_unreliable", mode=mode, writes=1)
    before = programming(pbx)

    run, result = vendor_site.run_json("rename-extension.yaml", "--apply", extension=number,
                                       name=NEW_NAME)
    assert run.returncode == 4, run.stdout + run.stderr  # a change that failed
    assert result["status"] == "failed" and result["half_programmed"] is False
    assert result["tickets"] == []  # the engineer's to act on, not a customer fault
    step = steps(result)["Extension name"]
    assert step["status"] == "failed"
    assert said in step["message"] and "(verified)" in step["message"]
    assert step["diff"] == {"setting": "extension_name", "target": number,
                            "before": name, "after": NEW_NAME}
    writes = transcript_writes(result)
    if mode == "corrupt":
        assert step["rollback"] == {"setting": "extension_name", "target": number,
                                    "before": NEW_NAME[:-1], "after": name}
        assert len(writes) == 2  # the change, then the rollback
        assert name in writes[1]
    else:
        assert step["rollback"] is None
        assert len(writes) == 1
    assert "HALF-PROGRAMMED" not in run.stderr
    assert programming(pbx) == before


def test_a_failed_rollback_says_the_pbx_is_half_programmed(vendor_site: VendorSite) -> None:
    pbx = vendor_site.pbx
    number, name = first_extension(pbx)
    pbx.inject_fault("programming_unreliable", mode="corrupt")  # every write

    run, result = vendor_site.run_json("rename-extension.yaml", "--apply", extension=number,
                                       name=NEW_NAME)
    assert run.returncode == 4, run.stdout + run.stderr
    assert "PBX MAY BE HALF-PROGRAMMED" in run.stderr
    assert result["half_programmed"] is True and result["status"] == "failed"
    step = steps(result)["Extension name"]
    assert step["status"] == "error"
    assert step["message"].startswith("PBX LEFT HALF-PROGRAMMED")
    assert step["rollback"] == {"setting": "extension_name", "target": number,
                                "before": NEW_NAME[:-1], "after": "<unknown>"}
    assert steps(result)["Extension list shows the new name"]["status"] == "skipped"
    assert len(transcript_writes(result)) == 2
    saved = json.loads((Path(result["transcript"]).parent / "result.json").read_text())
    assert saved["half_programmed"] is True
    # The rollback wrote the old name and the PBX garbled that too.
    assert pbx.extension(number).name == name[:-1]


# --- refused and round trips --------------------------------------------------------------


def test_programming_locked_errors_and_changes_nothing(locked_site: VendorSite) -> None:
    pbx = locked_site.pbx
    number, _ = first_extension(pbx)
    before = programming(pbx)

    run, result = locked_site.run_json("rename-extension.yaml", "--apply", extension=number,
                                       name=NEW_NAME)
    assert run.returncode == 4, run.stdout + run.stderr  # the change was refused
    assert result["half_programmed"] is False
    assert result["tickets"] == []  # another session's lock is no fault of the customer's
    step = steps(result)["Extension name"]
    assert step["status"] == "error" and step["cause"] == "reply"
    assert "lock" in step["message"].lower() and "nothing written" in step["message"]
    assert transcript_writes(result) == []
    assert programming(pbx) == before


@pytest.fixture
def panasonic_site(tmp_path: Path) -> Iterator[VendorSite]:
    yield from _vendor_site("panasonic-healthy", "panasonic", tmp_path)


def test_busy_out_then_restore_a_trunk(panasonic_site: VendorSite) -> None:
    pbx = panasonic_site.pbx
    trunk = pbx.co_lines()[2].number
    before = programming(pbx)
    assert pbx.co_line(trunk).status == "INS"

    run, result = panasonic_site.run_json("busy-out-trunk.yaml", "--apply", trunk=trunk)
    assert run.returncode == 0, run.stdout + run.stderr
    assert steps(result)["CO line busied out"]["status"] == "changed"
    assert steps(result)["CO line list shows it busied out"]["status"] == "ok"
    assert pbx.co_line(trunk).busied_out and pbx.co_line(trunk).status == "OUS"
    assert [x for x in pbx.co_lines() if x.number != trunk] == [
        x for x in before["co_lines"] if x.number != trunk]

    run, result = panasonic_site.run_json("restore-trunk.yaml", "--apply", trunk=trunk)
    assert run.returncode == 0, run.stdout + run.stderr
    assert steps(result)["CO line in service"]["status"] == "changed"
    assert steps(result)["CO line usable again"]["status"] == "ok"
    assert programming(pbx) == before


def test_a_half_programmed_pbx_is_an_engineer_action_mailed_to_the_desk(
        vendor_site: VendorSite) -> None:
    """Not a customer fault with an SLA clock: one engineer action (EA-…), one mail that
    says to check the PBX by hand, no ticket — and the same run filed again adds nothing."""
    from agent.tickets import Register
    from tests.e2e.test_notify_after_run import NOTIFICATIONS
    from tests.tickets.servers import smtp_server

    pbx = vendor_site.pbx
    number, _ = first_extension(pbx)
    pbx.inject_fault("programming_unreliable", mode="corrupt")
    with smtp_server() as mailbox:
        vendor_site.inventory.write_text(vendor_site.inventory.read_text()
                                         + NOTIFICATIONS.format(port=mailbox.port))
        run, result = vendor_site.run_json("rename-extension.yaml", "--apply",
                                           extension=number, name=NEW_NAME)
    assert run.returncode == 4, run.stdout + run.stderr
    action = result["engineer_action"]
    assert action["ref"].startswith("EA-") and action["kind"] == "half_programmed"
    assert result["tickets"] == []
    (mail,) = mailbox.messages
    assert "ENGINEER ACTION: PBX MAY BE HALF-PROGRAMMED" in str(mail["Subject"])
    assert action["ref"] in str(mail["Subject"])
    body = mail.get_content()
    assert "not a customer" in body and "no SLA clock" in body
    with Register(vendor_site.db) as register:
        assert register.list_tickets() == []
        (queued,) = register.outbox(ref=action["ref"], channel="email")
        assert queued.status == "sent"
