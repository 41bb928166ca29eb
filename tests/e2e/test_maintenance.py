"""Maintenance windows through the real CLI, a simulated PBX over SSH and a real SMTP server.

A site in a window is still dialled and its run recorded (exit 1: the PBX *is* faulty),
but no ticket is filed and no mail is queued or sent; when the window ends the same run
files one ticket. Windows come from ``pbxdiag sites maintenance`` or the inventory.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.tickets.servers import smtp_server

from .conftest import HEALTH_CHECK, Site
from .test_notify_after_run import NOTIFICATIONS


def _tickets(site: Site) -> list[dict[str, object]]:
    listed = site.pbxdiag("tickets", "list", "--json", "--db", str(site.db))
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, object]] = json.loads(listed.stdout)
    return rows


def _outbox(site: Site) -> list[dict[str, object]]:
    listed = site.pbxdiag("tickets", "outbox", "list", "--json", "--db", str(site.db))
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, object]] = json.loads(listed.stdout)
    return rows


def _maintenance(site: Site, *args: str) -> tuple[int, str, str]:
    done = site.pbxdiag("sites", "maintenance", *args, "--inventory", str(site.inventory),
                        "--db", str(site.db))
    return done.returncode, done.stdout, done.stderr


def test_a_window_set_from_the_cli_files_nothing_until_it_is_ended(
        faulty_site: Site) -> None:
    with smtp_server() as mailbox:
        faulty_site.inventory.write_text(faulty_site.inventory.read_text()
                                         + NOTIFICATIONS.format(port=mailbox.port))
        code, out, err = _maintenance(faulty_site, "acme-bolton", "--until", "4h",
                                      "--reason", "replacing the trunk card", "--by", "alice")
        assert code == 0, err
        assert out.startswith("acme-bolton: in maintenance until ")
        assert "replacing the trunk card (set by alice)" in out

        run = faulty_site.run_health_check()
        assert run.returncode == 1, run.stderr  # the PBX is faulty: the result says so
        assert "in maintenance: no ticket filed, nothing mailed" in run.stdout
        assert "found:     P2" in run.stdout
        (result,) = [line.split(":", 1)[1].strip() for line in run.stdout.splitlines()
                     if line.startswith("  result:")]
        assert json.loads(Path(result).read_text())["status"] == "failed"  # recorded
        as_json = faulty_site.run_health_check("--json")
        assert as_json.returncode == 1
        report = json.loads(as_json.stdout)
        assert report["tickets"] == []
        window = report["maintenance"]
        assert (window["site"], window["reason"], window["set_by"], window["source"]) == (
            "acme-bolton", "replacing the trunk card", "alice", "register")
        assert [f["priority"] for f in window["found"]] == ["P2"]
        assert _tickets(faulty_site) == [] and _outbox(faulty_site) == []
        assert mailbox.messages == []

        listing = faulty_site.pbxdiag("tickets", "list", "--db", str(faulty_site.db))
        assert listing.stdout.splitlines()[0] == "no tickets"
        assert listing.stdout.splitlines()[1].startswith("maintenance: acme-bolton until ")
        code, out, _ = _maintenance(faulty_site, "--list", "--json")
        assert code == 0 and [w["site"] for w in json.loads(out)] == ["acme-bolton"]

        code, out, err = _maintenance(faulty_site, "--end", "acme-bolton", "--by", "bob")
        assert (code, out) == (0, "acme-bolton: maintenance ended (1 window)\n"), err
        again = faulty_site.run_health_check("--json")
        assert again.returncode == 1
        after = json.loads(again.stdout)
        assert after["maintenance"] is None
        assert [t["action"] for t in after["tickets"]] == ["opened"]
        (ticket,) = _tickets(faulty_site)
        assert ticket["maintenance"] is None
    assert len(mailbox.messages) == 1
    assert _maintenance(faulty_site, "--list")[1] == "no maintenance windows\n"
    code, _, err = _maintenance(faulty_site, "--end", "acme-bolton")
    assert code == 2 and "not in a maintenance window" in err


def test_tickets_list_shows_the_window_of_a_site_with_an_open_ticket(
        faulty_site: Site) -> None:
    assert faulty_site.run_health_check().returncode == 1
    assert _maintenance(faulty_site, "acme-bolton", "--until", "90m", "--reason",
                        "engineer on site", "--by", "carol")[0] == 0
    listing = faulty_site.pbxdiag("tickets", "list", "--db", str(faulty_site.db))
    lines = listing.stdout.splitlines()
    assert lines[1].endswith("[maintenance]")
    assert lines[2].startswith("maintenance: acme-bolton until ")
    assert lines[2].endswith("engineer on site (set by carol)")
    (ticket,) = _tickets(faulty_site)
    assert isinstance(ticket["maintenance"], dict)
    assert ticket["maintenance"]["reason"] == "engineer on site"
    # a second run in the window adds nothing to the open ticket
    assert faulty_site.run_health_check().returncode == 1
    shown = faulty_site.pbxdiag("tickets", "show", str(ticket["ref"]), "--json", "--db",
                                str(faulty_site.db))
    assert len(json.loads(shown.stdout)["occurrences"]) == 1


def _inventory_window(site: Site, start: datetime, end: datetime) -> None:
    site.inventory.write_text(site.inventory.read_text().replace(
        "    timeout: 10\n",
        "    timeout: 10\n    maintenance:\n"
        f"      - {{from: '{start.isoformat()}', until: '{end.isoformat()}',"
        " reason: planned card swap}\n"))


def test_an_inventory_window_works_the_same_in_run_and_fleet(faulty_site: Site) -> None:
    now = datetime.now(UTC)
    original = faulty_site.inventory.read_text()
    _inventory_window(faulty_site, now - timedelta(hours=1), now + timedelta(hours=1))
    run = faulty_site.run_health_check()
    assert run.returncode == 1, run.stderr
    assert "in maintenance: no ticket filed" in run.stdout
    assert "planned card swap (from the inventory)" in run.stdout
    fleet = faulty_site.pbxdiag("fleet", str(HEALTH_CHECK), "--inventory",
                                str(faulty_site.inventory), "--db", str(faulty_site.db),
                                "--output", str(faulty_site.output), "--json")
    assert fleet.returncode == 1, fleet.stderr
    line = json.loads(fleet.stdout)
    assert line["ticket"] is None and line["maintenance"]["source"] == "inventory"
    text = faulty_site.pbxdiag("fleet", str(HEALTH_CHECK), "--inventory",
                               str(faulty_site.inventory), "--db", str(faulty_site.db),
                               "--output", str(faulty_site.output))
    assert "in maintenance: no ticket filed" in text.stdout
    listing = faulty_site.pbxdiag("tickets", "list", "--db", str(faulty_site.db),
                                  "--inventory", str(faulty_site.inventory))
    assert "maintenance: acme-bolton until " in listing.stdout
    code, _, err = _maintenance(faulty_site, "--end", "acme-bolton")
    assert code == 2 and "comes from the inventory" in err
    assert _tickets(faulty_site) == []

    faulty_site.inventory.write_text(original)  # a window that is over
    _inventory_window(faulty_site, now - timedelta(hours=3), now - timedelta(hours=1))
    after = faulty_site.run_health_check()
    assert after.returncode == 1
    assert "opened" in after.stdout and "maintenance" not in after.stdout
    assert len(_tickets(faulty_site)) == 1


def test_escalations_wait_while_the_site_is_in_maintenance(faulty_site: Site) -> None:
    from agent.tickets.register import Register
    from tests.tickets.conftest import classification, record

    with Register(faulty_site.db) as reg:  # a fault logged a month ago: escalations due
        ref = record(reg, c=classification("P2", rule="all-trunks-down"),
                     now=datetime.now(UTC) - timedelta(days=30)).ticket.ref
    assert _maintenance(faulty_site, "acme-bolton", "--until", "1d", "--reason", "works")[0] == 0
    sweep = faulty_site.pbxdiag("tickets", "escalate", "--db", str(faulty_site.db))
    assert (sweep.returncode, sweep.stdout) == (0, "no escalation due\n"), sweep.stderr
    assert _maintenance(faulty_site, "--end", "acme-bolton")[0] == 0
    sweep = faulty_site.pbxdiag("tickets", "escalate", "--db", str(faulty_site.db))
    assert sweep.stdout.splitlines()[0].startswith(f"escalated {ref} to account manager")


def test_an_inventory_window_holds_escalations_when_the_sweep_is_given_it(
        faulty_site: Site) -> None:
    from agent.tickets.register import Register
    from tests.tickets.conftest import classification, record

    with Register(faulty_site.db) as reg:
        record(reg, c=classification("P2", rule="all-trunks-down"),
               now=datetime.now(UTC) - timedelta(days=30))
    now = datetime.now(UTC)
    _inventory_window(faulty_site, now - timedelta(hours=1), now + timedelta(hours=1))
    with smtp_server() as mailbox:
        faulty_site.inventory.write_text(faulty_site.inventory.read_text()
                                         + NOTIFICATIONS.format(port=mailbox.port))
        sweep = faulty_site.pbxdiag("tickets", "escalate", "--db", str(faulty_site.db),
                                    "--inventory", str(faulty_site.inventory))
        assert sweep.stdout.splitlines()[0] == "no escalation due", sweep.stderr
        # the ticket's own "opened" mail was queued before the window: it still goes
        assert [str(m["Subject"]).endswith("(escalated to account manager)")
                for m in mailbox.messages] == [False]


def test_bad_windows_are_bad_input(faulty_site: Site, tmp_path: Path) -> None:
    for until, why in (("tomorrowish", "--until: not a duration (4h, 90m, 1d) or an ISO"),
                       ("2001-01-01T10:00", "--until: that moment has passed"),
                       ("40d", "--until: a window may last at most 31 days")):
        code, _, err = _maintenance(faulty_site, "acme-bolton", "--until", until,
                                    "--reason", "x")
        assert code == 2 and why in err, err
        assert "Traceback" not in err
    code, _, err = _maintenance(faulty_site, "acme-bolton", "--until", "4h")
    assert code == 2 and "--reason" in err
    code, _, err = _maintenance(faulty_site, "nowhere", "--until", "4h", "--reason", "x")
    assert code == 2 and "no site 'nowhere'" in err
    assert _maintenance(faulty_site, "--list")[1] == "no maintenance windows\n"

    now = datetime.now(UTC)
    _inventory_window(faulty_site, now, now - timedelta(hours=1))
    run = faulty_site.run_health_check()
    assert run.returncode == 2
    lines = faulty_site.inventory.read_text().splitlines()
    (line,) = [n for n, text in enumerate(lines, start=1) if "until:" in text]
    column = lines[line - 1].index("until:") + len("until: ") + 1
    assert f"{faulty_site.inventory}:{line}:{column}: " in run.stderr
    assert "maintenance: the window ends before it starts" in run.stderr
    validate = faulty_site.pbxdiag("inventory", "validate", str(faulty_site.inventory))
    assert validate.returncode == 2 and "ends before it starts" in validate.stderr + \
        validate.stdout
    assert _tickets(faulty_site) == []
