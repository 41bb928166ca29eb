"""``pbxdiag smdr monitor`` and ``smdr calls`` through the real CLI and simulated SMDR ports."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from datetime import datetime, timedelta

import pytest

from agent.tickets.register import Register, Ticket
from simulators import CallGenerator
from simulators.records import Level, sub_code
from tests.smdr.conftest import Bench


def emitted_records(bench: Bench, site_id: str) -> list[str]:
    """The records the simulator has printed on its SMDR port (its buffer), each as the
    raw line(s) a reader keeps: the simulator's own lines, read back by the parser."""
    from datetime import date

    from drivers.panasonic.smdr import parse_stream as panasonic
    from drivers.toshiba.smdr import parse_stream as toshiba
    from simulators.panasonic import smdr as panasonic_smdr
    from simulators.toshiba import smdr as toshiba_smdr

    site = bench.sites[site_id]
    lines: list[str] = []
    for _, item in site.pbx.smdr_items():
        if site.vendor == "panasonic":
            text = panasonic_smdr.format_item(item)
            lines += [text] if text is not None else []
        else:
            lines += toshiba_smdr.item_lines(item)
    text = "\n".join(lines)
    stream = (panasonic(text) if site.vendor == "panasonic"
              else toshiba(text, today=date.today()))
    return [i.record.raw for i in stream.items if i.record is not None]


def test_records_are_stored_and_shown_by_smdr_calls(bench: Bench) -> None:
    bench.add("bolton", "panasonic-healthy")
    bench.add("leeds", "toshiba-healthy")
    bench.start_monitor()
    bench.wait_streaming(1)
    for site_id in ("bolton", "leeds"):
        CallGenerator(bench.sites[site_id].pbx, seed=3).next_call()
    for site_id in ("bolton", "leeds"):
        bench.wait_until(lambda s=site_id: len(bench.stored(s)) == len(emitted_records(bench, s)),
                         f"{site_id}'s records")
    done = bench.stop()
    assert done.returncode == 0, done.stderr
    shown = bench.pbxdiag("smdr", "calls", "--site", "bolton", "--db", str(bench.db), "--json")
    assert shown.returncode == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [r["record"]["raw"] for r in rows] == emitted_records(bench, "bolton")


def tickets(bench: Bench, site_id: str) -> list[Ticket]:
    with Register(bench.db) as register:
        return register.list_tickets(site_id=site_id)


def occurrences(bench: Bench, ref: str) -> list[tuple[str, str]]:
    with Register(bench.db) as register:
        return [(o.kind, o.run_id) for o in register.occurrences(ref)]


@pytest.mark.parametrize("scenario", ["panasonic-healthy", "toshiba-healthy"])
def test_sigkill_mid_stream_loses_and_doubles_nothing(bench: Bench, scenario: str) -> None:
    site = bench.add("site", scenario)
    calls = CallGenerator(site.pbx, seed=7)
    stop = threading.Event()

    def traffic() -> None:  # calls keep ending while the monitor is killed and restarted
        while not stop.wait(0.01):
            calls.next_call()

    caller = threading.Thread(target=traffic)
    caller.start()
    try:
        for _ in range(3):
            bench.start_monitor()
            bench.wait_streaming(1)
            before = len(bench.stored("site"))
            bench.wait_until(lambda b=before: len(bench.stored("site")) > b + 5,
                             "records stored by this run")
            bench.kill()
    finally:
        stop.set()
        caller.join()
    bench.start_monitor()
    bench.wait_streaming(1)  # running (its SIGTERM handler is in place) before it is stopped
    emitted = emitted_records(bench, "site")
    bench.wait_until(lambda: len(bench.stored("site")) >= len(emitted), "the last records")
    assert bench.stop().returncode == 0
    assert bench.stored("site") == emitted  # every record once, in the order printed


def test_an_alarm_line_is_one_ticket_however_often_it_is_re_read(bench: Bench) -> None:
    site = bench.add("bolton", "panasonic-healthy")
    bench.start_monitor()
    bench.wait_streaming(1)
    site.pbx.log_error(Level.MN, 301, sub_code(1, 3), "RAI reception")
    bench.wait_until(lambda: len(tickets(bench, "bolton")) == 1, "the ticket")
    for _ in range(2):  # restarts re-read the whole buffer, the alarm line included
        bench.kill()
        bench.start_monitor()
        bench.wait_streaming(1)
    [ticket] = tickets(bench, "bolton")
    assert ticket.rule == "digital-trunk-alarm"
    assert ticket.signature == "component:trunks"
    assert [kind for kind, _ in occurrences(bench, ticket.ref)] == ["fault"]
    assert bench.stored("bolton", "alarm").count(
        next(a for a in bench.stored("bolton", "alarm") if "#301" in a)) == 1
    site.pbx.log_error(Level.MN, 390, sub_code(1, 3), "Digital sync established")
    bench.wait_until(lambda: [k for k, _ in occurrences(bench, ticket.ref)]
                     == ["fault", "all_clear"], "the recovery's all-clear")
    assert bench.stop().returncode == 0
    assert len(tickets(bench, "bolton")) == 1


def test_the_510_of_the_monitors_own_reconnect_files_nothing(bench: Bench) -> None:
    site = bench.add("bolton", "panasonic-healthy")
    bench.start_monitor()
    bench.wait_streaming(1)
    bench.wait_until(lambda: len(bench.stored("bolton", "alarm")) >= 3, "the buffer")
    bench.kill()
    site.pbx.log_error(Level.MN, 510, sub_code(1), "SMDR disconnect")  # as the PBX does
    bench.start_monitor()
    bench.wait_streaming(1)
    bench.wait_until(lambda: filed(bench, "510") == ["no-rule", "own-reconnect"],
                     "the 510 looked at")
    assert tickets(bench, "bolton") == []
    site.pbx.log_error(Level.MN, 510, sub_code(1), "SMDR disconnect")  # not ours: a fault
    bench.wait_until(lambda: len(tickets(bench, "bolton")) == 1, "the smdr-link ticket")
    assert tickets(bench, "bolton")[0].rule == "smdr-link"
    assert bench.stop().returncode == 0


def filed(bench: Bench, code: str) -> list[str]:
    """What became of each stored alarm line with this code, in stored order."""
    with sqlite3.connect(bench.db) as conn:
        rows = conn.execute("SELECT filed FROM smdr_items WHERE kind = 'alarm' AND"
                            " json_extract(data, '$.code') = ? ORDER BY pos", (code,))
        return [r[0] or "" for r in rows]


def test_sigterm_exits_0_and_a_maintenance_window_files_nothing(bench: Bench) -> None:
    site = bench.add("bolton", "panasonic-healthy")
    now = datetime.now().replace(microsecond=0)
    window = (f"    maintenance: [{{from: '{(now - timedelta(hours=1)).isoformat()}', "
              f"until: '{(now + timedelta(hours=2)).isoformat()}', reason: card swap}}]\n")
    text = bench.inventory.read_text().replace("    smdr_link:", window + "    smdr_link:")
    bench.inventory.write_text(text)
    bench.start_monitor()
    bench.wait_streaming(1)
    site.pbx.log_error(Level.MN, 301, sub_code(1, 3), "RAI reception")
    bench.wait_until(lambda: filed(bench, "301") == ["maintenance"], "the alarm looked at")
    done = bench.stop()
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert tickets(bench, "bolton") == []
    assert "smdr.monitor_stopped" in (bench.workdir / "monitor.log").read_text()


def test_masked_sites_keep_no_full_number_in_the_register_or_export(bench: Bench) -> None:
    bench.add("bolton", "panasonic-healthy")
    bench.write_inventory(link=", mask_dialled: true")
    bench.start_monitor()
    bench.wait_streaming(1)
    emitted = emitted_records(bench, "bolton")
    bench.wait_until(lambda: len(bench.stored("bolton")) == len(emitted), "the records")
    assert bench.stop().returncode == 0
    numbers = {n for raw in emitted for n in re.findall(r"\d{6,}", raw[17:])}
    assert numbers  # the scenario's calls do dial and receive numbers
    shown = bench.pbxdiag("smdr", "calls", "--site", "bolton", "--db", str(bench.db), "--json")
    with sqlite3.connect(bench.db) as conn:
        stored = "\n".join(r[0] + r[1] for r in conn.execute("SELECT raw, data FROM smdr_items"))
    for number in numbers:
        assert number not in stored and number not in shown.stdout
    assert re.search(r"\d{5}X+", shown.stdout)
