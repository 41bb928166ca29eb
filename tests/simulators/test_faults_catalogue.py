"""The fault catalogue: codes, sub codes and recovery codes; models; the SMDR buffer's waits."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from simulators import (
    FAULTS,
    MODELS,
    CallGenerator,
    Card,
    CoLine,
    FaultError,
    Level,
    PbxState,
    StateError,
    Status,
    SystemIdentity,
    load_scenario,
)
from simulators.models import EVENTS, version_problem

NOW = datetime(2026, 11, 27, 15, 48, 13)
DEADLINE = 10.0


def clock() -> datetime:
    return NOW


def pri_site() -> PbxState:
    """The healthy KX-TDE200 plus a PRI30 (slot 04) and a BRI4 (slot 05)."""
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    pbx.add_card(Card(1, 4, "PRI30", "KX-TDA0290CE", "1.0000"))
    pbx.add_card(Card(1, 5, "BRI4", "KX-TDA0284", "1.0000"))
    for port in range(1, 31):
        pbx.add_co_line(CoLine(8 + port, 1, 4, port, "PRI"))
    pbx.add_co_line(CoLine(39, 1, 5, 1, "BRI"))
    return pbx


def logged(pbx: PbxState, count: int) -> list[tuple[str, int, str, bool]]:
    return [(e.level.value, e.code, e.sub_code, e.active) for e in pbx.error_log()[-count:]]


def test_every_fault_logs_known_events_with_their_level() -> None:
    for spec in FAULTS.values():
        assert spec.help
    for code, event in EVENTS.items():
        assert len(event.message) <= 36 and 0 <= code <= 999


@pytest.mark.parametrize(("kind", "params", "entries"), [
    ("dead_card", {"slot": 1, "code": 205},
     [("MJ", 205, "10100", True)]),
    ("data_link_failure", {"slot": 4}, [("MN", 305, "10400", True)]),
    ("clock_failure", {"slot": 4}, [("MJ", 234, "10400", True), ("MN", 392, "10500", False)]),
    ("lan_no_carrier", {}, [("MN", 307, "10000", True)]),
    ("dc_power_down", {}, [("MJ", 11, "10000", True)]),
    ("shelf_fan_alarm", {"cabinet": 1}, [("MN", 42, "10000", True)]),
    ("processor_failure", {"code": 1}, [("MJ", 1, "10000", True)]),
])
def test_fault_entries(kind: str, params: dict[str, int],
                       entries: list[tuple[str, int, str, bool]]) -> None:
    pbx = pri_site()
    pbx.inject_fault(kind, **params)
    assert logged(pbx, len(entries)) == entries


def test_data_link_failure_and_391() -> None:
    pbx = pri_site()
    pbx.inject_fault("data_link_failure", slot=4)
    assert {x.status for x in pbx.co_lines() if x.slot == 4} == {Status.FLT}
    pbx.clear_fault("data_link_failure", slot=4)
    assert {x.status for x in pbx.co_lines() if x.slot == 4} == {Status.INS}
    assert logged(pbx, 2) == [("MN", 305, "10400", False), ("MN", 391, "10400", False)]
    assert pbx.active_alarms() == []


def test_lan_no_carrier_and_393() -> None:
    pbx = pri_site()
    pbx.inject_fault("lan_no_carrier")
    pbx.clear_fault("lan_no_carrier")
    assert logged(pbx, 2) == [("MN", 307, "10000", False), ("MN", 393, "10000", False)]


def test_a_393_recovers_a_logged_307() -> None:
    pbx = pri_site()
    pbx.log_error(Level.MN, 307, "10000", "LAN no carrier", active=True)
    pbx.log_error(Level.MN, 393, "10000", "LAN carrier detected")
    assert pbx.active_alarms() == []


def test_clock_failure_with_no_other_digital_card_moves_to_the_processor() -> None:
    pbx = load_scenario("toshiba-healthy", host_clock=clock)
    pbx.inject_fault("clock_failure", slot=4)
    assert logged(pbx, 1) == [("MN", 392, "10000", False)]


def test_voicemail_failure() -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    pbx.add_card(Card(1, 6, "MSG4", "KX-TDA0191", "1.0000"))
    pbx.inject_fault("voicemail_failure", slot=6, code=217)
    assert logged(pbx, 5) == [("MJ", 217, "10600", True)] + [
        ("MN", 310, f"106{n:02d}", True) for n in range(1, 5)]
    with pytest.raises(FaultError, match="216 or 217"):
        pbx.inject_fault("voicemail_failure", slot=6, code=230)
    pbx.clear_fault("voicemail_failure", slot=6, code=217)
    assert pbx.card(6).status is Status.INS and pbx.active_alarms() == []


def test_processor_failure_silences_every_session() -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    with pytest.raises(FaultError, match="000 or 001"):
        pbx.inject_fault("processor_failure", code=2)
    pbx.inject_fault("processor_failure")
    assert not pbx.responding
    with pytest.raises(FaultError, match="already dead"):
        pbx.inject_fault("processor_failure", code=1)
    pbx.clear_fault("processor_failure")
    assert pbx.responding
    assert logged(pbx, 2) == [("MJ", 0, "10000", False), ("MJ", 2, "10000", False)]


def test_power_cut_window() -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    pbx.inject_fault("power_cut", minutes=10)
    assert pbx.in_outage(NOW - timedelta(minutes=5))
    assert not pbx.in_outage(NOW - timedelta(minutes=11))
    start = NOW - timedelta(minutes=10)
    assert [(e.code, e.when, e.active) for e in pbx.error_log()[-2:]] == [
        (10, start, False), (2, NOW, True)]
    pbx.clear_fault("power_cut", minutes=10)
    assert pbx.active_alarms() == []


def test_trunk_busied_out_is_for_analogue_lines() -> None:
    pbx = pri_site()
    with pytest.raises(FaultError, match="only analogue lines"):
        pbx.inject_fault("trunk_busied_out", co=9)


# --- models -------------------------------------------------------------------------------


def test_every_model_has_a_consistent_profile() -> None:
    samples = {"Toshiba": "{p}A102MA2XXP1D12BXSEM.00", "Panasonic": "{p} Software File "
               "Version 3.2000"}
    for profile in MODELS.values():
        prefix = (profile.product if profile.vendor == "Toshiba"
                  else profile.version.pattern.split(" ", 1)[0])
        assert version_problem(profile, samples[profile.vendor].format(p=prefix)) is None
        assert profile.cpu_types and profile.slots >= 4


@pytest.mark.parametrize(("card", "message"), [
    (Card(1, 5, "RCOU", "RCOU", "1"), "a Toshiba card, not a Panasonic one"),
    (Card(1, 12, "LCOT8", "KX-TDA0180", "1"), "no place for a card in cabinet 1 slot 12"),
    (Card(2, 1, "LCOT8", "KX-TDA0180", "1"), "no place for a card in cabinet 2"),
    (Card(1, 51, "V-IPEXT", "KX-NSM", "1"), "no place for a virtual card"),
])
def test_cards_must_fit_the_model(card: Card, message: str) -> None:
    pbx = load_scenario("panasonic-healthy", host_clock=clock)
    with pytest.raises(StateError, match=message):
        pbx.add_card(card)


def test_a_model_outside_the_catalogue_is_not_checked() -> None:
    pbx = PbxState(SystemIdentity("Panasonic", "KX-TEST9", "v"), host_clock=clock)
    pbx.add_card(Card(3, 40, "LCOT8", "KX-TDA0180", "1"))
    assert pbx.profile is None


# --- the SMDR buffer and its waits --------------------------------------------------------


def test_wait_smdr_wakes_on_a_new_record() -> None:
    pbx = load_scenario("panasonic-kx-tda100", host_clock=clock)
    last = pbx.smdr_items()[-1][0]
    got: list[int] = []
    ready = threading.Event()

    def wait() -> None:
        ready.set()
        got.extend(n for n, _ in pbx.wait_smdr(last, DEADLINE))

    thread = threading.Thread(target=wait)
    thread.start()
    ready.wait(DEADLINE)
    made = CallGenerator(pbx, seed=8).next_call()
    thread.join(DEADLINE)
    assert got == list(range(last + 1, last + 1 + len(made)))


def test_wait_smdr_stops_on_request() -> None:
    pbx = load_scenario("panasonic-kx-tda100", host_clock=clock)
    stop = threading.Event()
    last = pbx.smdr_items()[-1][0]
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(pbx.wait_smdr(last, DEADLINE, stop=stop.is_set)))
    thread.start()
    stop.set()
    pbx.notify_smdr()
    thread.join(DEADLINE)
    assert result == [[]]


def test_the_buffer_keeps_its_newest_items() -> None:
    pbx = load_scenario("panasonic-kx-tda100", host_clock=clock)
    for i in range(2100):
        pbx.log_error(Level.MN, 510, "10000", "SMDR disconnect",
                      when=NOW + timedelta(seconds=i))
    items = pbx.smdr_items()
    assert len(items) == 2000
    assert [n for n, _ in items] == list(range(items[0][0], items[0][0] + 2000))
    assert pbx.smdr_items(items[-2][0]) == items[-1:]
