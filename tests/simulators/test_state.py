"""The PBX state model: faults keep cards, ports, log and alarms consistent, under threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from simulators import (
    Card,
    CoLine,
    FaultError,
    Level,
    Mode,
    PbxState,
    StateError,
    Status,
    SystemIdentity,
    load_scenario,
)

NOW = datetime(2026, 11, 27, 15, 48, 13)


def clock() -> datetime:
    return NOW


@pytest.fixture
def pbx() -> PbxState:
    return load_scenario("panasonic-healthy", host_clock=clock)


def active(pbx: PbxState) -> list[tuple[str, int, str]]:
    return [(e.level.value, e.code, e.sub_code) for e in pbx.active_alarms()]


def test_dead_card_takes_down_its_ports_and_clears_back(pbx: PbxState) -> None:
    pbx.inject_fault("dead_card", slot=3)
    assert pbx.card(3).status is Status.FLT
    assert {x.status for x in pbx.co_lines()} == {Status.FLT}
    assert active(pbx) == [("MJ", 230, "10300")]
    assert pbx.error_log()[-1].message == "Card disconnected"
    pbx.clear_fault("dead_card", slot=3)
    assert pbx.card(3).status is Status.INS
    assert {x.status for x in pbx.co_lines()} == {Status.INS}
    assert active(pbx) == []
    assert pbx.error_log()[-1].code == 230  # no recovery code exists for 230


def test_dead_extension_card(pbx: PbxState) -> None:
    pbx.inject_fault("dead_card", slot=1)
    statuses = {x.number: x.status for x in pbx.extensions()}
    assert {statuses[str(n)] for n in range(201, 217)} == {"FLT"}
    assert statuses["217"] == "IDLE"


def test_trunk_busied_out(pbx: PbxState) -> None:
    pbx.inject_fault("trunk_busied_out", co=4)
    assert pbx.co_line(4).status is Status.OUS
    assert active(pbx) == [("MN", 330, "10304")]
    pbx.inject_fault("dead_card", slot=3)  # a dead card outranks a busied-out line
    assert pbx.co_line(4).status is Status.FLT
    pbx.clear_fault("dead_card", slot=3)
    assert pbx.co_line(4).status is Status.OUS
    pbx.clear_fault("trunk_busied_out", co=4)
    assert pbx.co_line(4).status is Status.INS


def test_busied_out_by_command_survives_a_330_clearing(pbx: PbxState) -> None:
    pbx.set_co_busied_out(2, True)
    pbx.inject_fault("trunk_busied_out", co=2)
    pbx.clear_fault("trunk_busied_out", co=2)
    assert pbx.co_line(2).status is Status.OUS


def pri_site() -> PbxState:
    pbx = PbxState(SystemIdentity("Panasonic", "KX-TDA200", "PMPR Software File Version 3.2000"),
                   host_clock=clock)
    pbx.add_card(Card(1, 0, "MPR", "KX-TDA0101", "3.2000"))
    pbx.add_card(Card(1, 4, "PRI30", "KX-TDA0290CE", "1.0000"))
    for n in range(1, 31):
        pbx.add_co_line(CoLine(n, 1, 4, n, "PRI"))
    return pbx


def test_digital_trunk_out_of_sync_and_recovery() -> None:
    pbx = pri_site()
    pbx.inject_fault("digital_trunk_out_of_sync", slot=4)
    assert {x.status for x in pbx.co_lines()} == {Status.FLT}
    assert active(pbx) == [("MJ", 300, "10400")]
    pbx.clear_fault("digital_trunk_out_of_sync", slot=4)
    assert {x.status for x in pbx.co_lines()} == {Status.INS}
    assert active(pbx) == []
    assert (pbx.error_log()[-1].code, pbx.error_log()[-1].sub_code) == (390, "10400")


def test_a_recovery_code_clears_earlier_failures_on_its_slot() -> None:
    pbx = pri_site()
    pbx.log_error(Level.MN, 301, "10401", "RAI reception", active=True)
    pbx.log_error(Level.MN, 301, "10501", "RAI reception", active=True)
    pbx.log_error(Level.MN, 390, "10400", "Digital sync established")
    assert active(pbx) == [("MN", 301, "10501")]


def test_digital_fault_needs_a_digital_card(pbx: PbxState) -> None:
    with pytest.raises(FaultError, match="not a digital trunk card"):
        pbx.inject_fault("digital_trunk_out_of_sync", slot=3)


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("melted", {}, "unknown fault kind"),
    ("dead_card", {}, "needs slot"),
    ("dead_card", {"slot": 3, "port": 1}, "no parameter port"),
    ("dead_card", {"slot": "3"}, "slot must be int"),
    ("dead_card", {"slot": 9}, "no card in cabinet 1 slot 09"),
    ("trunk_busied_out", {"co": 42}, "no CO line 42"),
])
def test_bad_faults_are_refused(pbx: PbxState, kind: str, params: dict[str, object],
                                message: str) -> None:
    with pytest.raises(StateError, match=message):
        pbx.inject_fault(kind, **params)
    assert pbx.active_faults() == []


def test_a_fault_cannot_be_injected_twice_or_cleared_when_absent(pbx: PbxState) -> None:
    pbx.inject_fault("dead_card", slot=2)
    with pytest.raises(FaultError, match="already active"):
        pbx.inject_fault("dead_card", slot=2, cabinet=1)
    with pytest.raises(FaultError, match="not active"):
        pbx.clear_fault("dead_card", slot=3)


def test_simple_alarms_and_night_mode(pbx: PbxState) -> None:
    for kind in ("smdr_disconnect", "ram_battery_low", "ac_power_down", "fan_alarm"):
        pbx.inject_fault(kind)
    assert active(pbx) == [("MJ", 10, "10000"), ("MJ", 12, "10000"),
                           ("MN", 14, "10000"), ("MN", 510, "10000")]
    pbx.inject_fault("stuck_night_mode")
    assert (pbx.time_service.mode, pbx.time_service.automatic) == (Mode.NIGHT, False)
    pbx.clear_fault("stuck_night_mode")
    assert (pbx.time_service.mode, pbx.time_service.automatic) == (Mode.DAY, True)


def test_programming_lock(pbx: PbxState) -> None:
    first, second = object(), object()
    assert pbx.acquire_programming(first)
    assert pbx.acquire_programming(first)
    assert not pbx.acquire_programming(second)
    pbx.release_programming(second)  # not the holder: no effect
    assert pbx.programming_holder is first
    pbx.release_programming(first)
    pbx.inject_fault("programming_locked")
    assert not pbx.acquire_programming(first)
    pbx.clear_fault("programming_locked")
    assert pbx.acquire_programming(first)
    with pytest.raises(FaultError, match="already held"):
        pbx.inject_fault("programming_locked")


def test_clock_is_an_offset_from_the_host_clock() -> None:
    host = [NOW]
    pbx = PbxState(SystemIdentity("Panasonic", "KX-TDE200", "v"), host_clock=lambda: host[0])
    pbx.set_clock(datetime(2011, 1, 6, 14, 44))
    host[0] += timedelta(minutes=5)
    assert pbx.now() == datetime(2011, 1, 6, 14, 49)


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.add_card(Card(1, 3, "LCOT8", "KX-TDA0180", "1")), "already has a card"),
    (lambda p: p.add_card(Card(1, 9, "WIDGET", "KX-1", "1")), "unknown card type"),
    (lambda p: p.add_co_line(CoLine(9, 1, 3, 1, "LCOT")), "already in use"),
    (lambda p: p.add_co_line(CoLine(9, 1, 1, 1, "LCOT")), "has no trunk ports"),
    (lambda p: p.add_co_line(CoLine(9, 1, 3, 9, "LCOT")), "ports 1-8"),
    (lambda p: p.set_extension("201", name="A name far too long"), "at most 16"),
    (lambda p: p.log_error(Level.MN, 510, "1000", "x"), "5 digits"),
    (lambda p: p.log_error(Level.MN, 510, "10000", "x" * 37), "at most 36"),
])
def test_inconsistent_changes_are_refused(pbx: PbxState, change: Callable[[PbxState], object],
                                          message: str) -> None:
    with pytest.raises(StateError, match=message):
        change(pbx)


def test_faults_from_many_threads_stay_consistent(pbx: PbxState) -> None:
    """Inject and clear from several threads while readers check every snapshot."""
    errors: list[str] = []
    done = threading.Event()

    def flap(co: int) -> None:
        for _ in range(200):
            pbx.inject_fault("trunk_busied_out", co=co)
            pbx.clear_fault("trunk_busied_out", co=co)

    def read() -> None:
        while not done.is_set():
            with pbx.lock:
                busied = {x.number for x in pbx.co_lines() if x.status is Status.OUS}
                alarmed = {int(e.sub_code[3:]) for e in pbx.active_alarms()}
            if busied != alarmed:
                errors.append(f"{busied} != {alarmed}")

    writers = [threading.Thread(target=flap, args=(co,)) for co in range(1, 9)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    done.set()
    reader.join(timeout=60)
    assert errors == []
    assert active(pbx) == []
    assert len(pbx.error_log()) == 3 + 8 * 200
