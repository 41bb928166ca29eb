"""Signals → confirming health-check runs, against simulated PBXs on loopback telnet.

The clock is injected (the watch is checked at a chosen ``now``); everything else is
real: the inventory file, the register, the site's line lock, the health-check playbook
through ``diagnose()`` (as ``pbxdiag run`` takes it), the driver and the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.commands import playbook_argument
from agent.inventory import Site, load_inventory
from agent.playbook import load_playbook
from agent.smdr.confirm import Confirmer, SignalWatch
from agent.tickets.register import Register
from agent.tickets.storage.smdr import NewItem, SmdrLog
from simulators import load_scenario
from simulators.lines.telnet import serve_telnet

LONDON = ZoneInfo("Europe/London")
PASSWORD = "Confirm-Run-Secret-9"
VARIABLE = "PBXDIAG_TEST_CONFIRM_PASSWORD"
WED_0900 = datetime(2026, 6, 10, 9, 0, tzinfo=LONDON)  # a Wednesday, working day

INVENTORY = """\
contracts:
  standard:
    calendar: {{nation: england, start: "09:00", end: "17:30"}}
    smdr_retention_days: 90
sites:
  harrogate:
    customer: Acme Ltd
    name: Harrogate
    vendor: panasonic
    paths: ["{url}"]
    timeout: 10
    credentials: {{username: INSTALLER, password_env: {variable}}}
    smdr_link: {{url: "tcp://127.0.0.1:9", password_env: {variable}, silence_minutes: 60,
                no_outgoing_minutes: 120, expected_calls: 3}}
"""


class World:
    def __init__(self, tmp_path: Path, url: str) -> None:
        self.tmp = tmp_path
        (tmp_path / "inventory.yaml").write_text(INVENTORY.format(url=url, variable=VARIABLE))
        self.site: Site = load_inventory(tmp_path / "inventory.yaml").site("harrogate")
        self.db = tmp_path / "tickets.db"
        self.output = tmp_path / "out"
        self.confirmer = Confirmer(load_playbook(playbook_argument("health-check")),
                                   output_dir=self.output, db_path=self.db, line_wait=5)

    def watch(self, smdr_log: SmdrLog, started: datetime) -> SignalWatch:
        return SignalWatch(self.site, smdr_log, started, self.confirmer.confirm)

    def runs(self) -> list[str]:
        folder = self.output / "runs"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    def tickets(self) -> list[tuple[str, list[str]]]:
        with Register(self.db) as register:
            return [(t.signature, [o.run_id for o in register.occurrences(t.ref)])
                    for t in register.list_tickets(site_id="harrogate")]


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, PASSWORD)


def serve(scenario: str, tmp_path: Path) -> Iterator[World]:
    with serve_telnet(load_scenario(scenario), password=PASSWORD) as endpoint:
        yield World(tmp_path, endpoint.url)


@pytest.fixture
def dead_card(tmp_path: Path) -> Iterator[World]:
    yield from serve("panasonic-dead-trunk-card", tmp_path)


@pytest.fixture
def healthy(tmp_path: Path) -> Iterator[World]:
    yield from serve("panasonic-healthy", tmp_path)


def test_a_silent_link_in_working_hours_starts_one_run_whose_evidence_files(
        dead_card: World) -> None:
    with SmdrLog(dead_card.db) as smdr_log:
        watch = dead_card.watch(smdr_log, started=WED_0900)
        assert watch.check(WED_0900 + timedelta(minutes=59)) == []  # not silent long enough
        assert dead_card.runs() == [] and dead_card.tickets() == []
        first = watch.check(WED_0900 + timedelta(minutes=75))
        # the same silence, checked again (and by a restarted monitor): no second run
        again = watch.check(WED_0900 + timedelta(minutes=140))
        restarted = dead_card.watch(smdr_log, started=WED_0900).check(
            WED_0900 + timedelta(hours=3))
        rows = smdr_log.signals("harrogate")
    assert len(first) == 1 and again == [] and restarted == []
    run_id = first[0].run_id
    assert run_id is not None and dead_card.runs() == [run_id]
    assert [(r.signal, r.run_id) for r in rows] == [("silence", run_id)]
    assert rows[0].window == WED_0900 and rows[0].detail["silent_working_minutes"] == 75
    tickets = dead_card.tickets()
    assert len(tickets) == 1, tickets
    signature, runs = tickets[0]
    assert runs == [run_id]  # filed from the confirming run's evidence, and only that
    assert len(first[0].tickets) == 1
    assert rows[0].outcome is not None and f"filed {first[0].tickets[0]}" in rows[0].outcome
    assert "trunk" in signature or "card" in signature, signature


def test_silence_outside_working_hours_starts_nothing(dead_card: World) -> None:
    friday_4pm = datetime(2026, 6, 12, 16, 0, tzinfo=LONDON)
    with SmdrLog(dead_card.db) as smdr_log:
        watch = dead_card.watch(smdr_log, started=friday_4pm)
        assert watch.check(datetime(2026, 6, 12, 20, 0, tzinfo=LONDON)) == []  # evening
        assert watch.check(datetime(2026, 6, 13, 11, 0, tzinfo=LONDON)) == []  # Saturday
        assert smdr_log.signals("harrogate") == []
    assert dead_card.runs() == [] and dead_card.tickets() == []


def test_an_item_heard_ends_the_silence(dead_card: World) -> None:
    with SmdrLog(dead_card.db) as smdr_log:
        smdr_log.append("harrogate", [NewItem("record", "raw line", "2026-06-10T09:50:00",
                                              {"direction": "incoming", "co": "01"})],
                        connection=1, now=(WED_0900 + timedelta(minutes=50)).astimezone(UTC))
        assert dead_card.watch(smdr_log, started=WED_0900).check(
            WED_0900 + timedelta(minutes=75)) == []
    assert dead_card.runs() == []


def outgoing_history(smdr_log: SmdrLog, now: datetime, *, quiet_since: datetime) -> None:
    """Four weeks of four outgoing calls in each working hour, none since ``quiet_since``;
    stored just now (the buffer replay of a first start), so the link is not silent."""
    items = []
    for back in range(28, -1, -1):
        day = now - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for hour in range(9, 17):
            for minute in (10, 25, 40, 55):
                at = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
                if at < quiet_since:
                    items.append(NewItem("record", f"call {at:%Y-%m-%d %H:%M}",
                                         at.replace(tzinfo=None).isoformat(),
                                         {"direction": "outgoing", "co": "02"}))
    smdr_log.append("harrogate", items, connection=1,
                    now=(now - timedelta(minutes=5)).astimezone(UTC))


def test_no_outgoing_calls_when_expected_starts_one_run_and_a_healthy_pbx_files_nothing(
        healthy: World) -> None:
    now = datetime(2026, 6, 10, 14, 30, tzinfo=LONDON)
    with SmdrLog(healthy.db) as smdr_log:
        outgoing_history(smdr_log, now, quiet_since=now.replace(hour=12, minute=0))
        watch = healthy.watch(smdr_log, started=now - timedelta(minutes=10))
        done = watch.check(now)
        assert watch.check(now + timedelta(minutes=30)) == []
        rows = smdr_log.signals("harrogate")
    assert len(done) == 1 and done[0].run_id is not None
    assert [(r.signal, r.run_id) for r in rows] == [("no-outgoing", done[0].run_id)]
    assert rows[0].detail["expected_calls"] >= 3
    assert rows[0].window == now.replace(hour=11, minute=55)
    assert healthy.runs() == [done[0].run_id]
    assert healthy.tickets() == []  # the health check found nothing: nothing filed
    assert rows[0].outcome is not None and rows[0].outcome.endswith("filed nothing")


def test_the_contract_term_sets_the_retention_default(healthy: World) -> None:
    assert healthy.site.smdr_link is not None
    assert healthy.site.smdr_link.retention_days == 90


def test_the_monitor_checks_its_sites_signals_and_starts_the_run(dead_card: World) -> None:
    """The hook in ``run_monitor``: its tick checks each site's signals at its clock."""
    import threading
    import time

    from agent.smdr.monitor import run_monitor

    times = iter([WED_0900])  # the monitor's start; every later tick is 75 minutes on

    def clock() -> datetime:
        return next(times, WED_0900 + timedelta(minutes=75))

    stop = threading.Event()
    monitor = threading.Thread(target=run_monitor, args=([dead_card.site], dead_card.db),
                               kwargs={"stop": stop, "confirmer": dead_card.confirmer,
                                       "signal_every": 0.05, "clock": clock})
    monitor.start()
    try:
        deadline = time.monotonic() + 60
        while not (dead_card.tickets() if dead_card.db.exists() else []):
            assert time.monotonic() < deadline, "no confirming run filed"
            time.sleep(0.05)
    finally:
        stop.set()
        monitor.join(30)
    assert not monitor.is_alive()
    with SmdrLog(dead_card.db) as smdr_log:
        rows = smdr_log.signals("harrogate")
    assert [r.signal for r in rows] == ["silence"]  # many ticks, one window, one run
    assert len(dead_card.runs()) == 1 and rows[0].run_id == dead_card.runs()[0]
