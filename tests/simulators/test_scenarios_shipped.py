"""Every shipped scenario loads and shows the signature facts of its fault, on both consoles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from simulators import (
    CallRecord,
    Level,
    Mode,
    PbxState,
    Status,
    SystemEvent,
    load_scenario,
    scenario_names,
    session_for,
)

NOW = datetime(2026, 11, 27, 15, 48, 13)


def clock() -> datetime:
    return NOW


def load(name: str) -> PbxState:
    return load_scenario(name, host_clock=clock)


def active(pbx: PbxState) -> set[tuple[int, str]]:
    return {(e.code, e.sub_code) for e in pbx.active_alarms()}


def codes(pbx: PbxState) -> list[int]:
    return [e.code for e in pbx.error_log()]


def console(pbx: PbxState, *commands: str) -> str:
    """What a console session prints for ``commands`` (paging off first)."""
    out: list[bytes] = []
    session = session_for(pbx, login_required=False, send=out.append, username="U",
                          password=None)
    session.start()
    paging = "PAGE OFF" if pbx.vendor == "Panasonic" else "SET LENGTH 0"
    for command in (paging, *commands):
        session.feed(command.encode() + b"\r")
    return b"".join(out).decode("ascii")


REQUIRED = [f"{vendor}-{name}" for vendor in ("panasonic", "toshiba") for name in (
    "healthy", "pbx-dead", "total-system-failure", "digital-trunks-down",
    "analogue-trunks-busied-out", "one-trunk-dead", "extension-card-failure",
    "power-and-battery", "clock-sync", "restart-after-power-cut", "stuck-night-mode",
    "smdr-link-lost", "programming-locked")] + ["panasonic-voicemail-card"]


def test_every_scenario_of_the_domain_table_is_shipped() -> None:
    assert set(REQUIRED) <= set(scenario_names())


@pytest.mark.parametrize("name", scenario_names())
def test_every_read_command_works_on_every_scenario(name: str) -> None:
    pbx = load(name)
    if not pbx.responding:
        assert console(pbx, "VER") == ""
        return
    if pbx.vendor == "Panasonic":
        out = console(pbx, "VER", "ALM", "ERR", "CARD", "CO", "EXT", "MODE", "DATE", "SMDR")
        assert "ERROR" not in out and out.endswith(f"{pbx.system.model}> ")
    else:
        out = console(pbx, *(f"SHOW {what}" for what in (
            "VERSION", "ALARM", "ALARM HISTORY", "PCB", "TRUNK", "STATION", "DN", "MODE",
            "TIME", "SMDR")))
        assert "?ERR" not in out and out.endswith(f"STRATA-{pbx.system.model}# ")


def trunk_lines(pbx: PbxState, kind: str) -> list[Status]:
    return [x.status for x in pbx.co_lines() if x.kind == kind]


# --- Panasonic ----------------------------------------------------------------------------


def test_panasonic_pbx_dead() -> None:
    pbx = load("panasonic-pbx-dead")
    assert not pbx.responding
    assert codes(pbx)[-2:] == [2, 0]
    assert active(pbx) == {(0, "10000")}
    pbx.clear_fault("processor_failure", code=0)
    assert pbx.responding and codes(pbx)[-1] == 2
    assert "System Model" in console(pbx, "VER")


def test_panasonic_total_system_failure() -> None:
    pbx = load("panasonic-total-system-failure")
    assert pbx.responding
    assert {c.slot: c.status for c in pbx.cards()} == {
        0: Status.INS, 1: Status.FLT, 2: Status.FLT, 3: Status.FLT}
    assert {e.status for e in pbx.extensions()} == {"FLT"}
    assert {x.status for x in pbx.co_lines()} == {Status.FLT}
    assert active(pbx) == {(1, "10000"), (232, "10100"), (232, "10200"), (232, "10300")}
    pbx.clear_fault("system_failure")
    assert {c.status for c in pbx.cards()} == {Status.INS} and codes(pbx)[-1] == 2


def test_panasonic_digital_trunks_down() -> None:
    pbx = load("panasonic-digital-trunks-down")
    assert pbx.card(4).card_type == "PRI30" and pbx.card(4).status is Status.INS
    assert trunk_lines(pbx, "PRI") == [Status.FLT] * 30
    assert set(trunk_lines(pbx, "LCOT")) == {Status.INS}
    assert active(pbx) == {(300, "10400")}
    assert pbx.active_alarms()[0].level is Level.MJ
    history = {(e.code, e.sub_code) for e in pbx.error_log()}
    assert {(301, "10400"), (302, "10400"), (304, "10400"), (305, "10400")} <= history
    assert "FLT" not in {e.status for e in pbx.extensions()}
    out = console(pbx, "ALM", "CO")
    assert "    MJ ALM #300 00 10400 Digital trunk out of sync\r\n" in out
    assert " 09   1  04  01 PRI  FLT\r\n" in out and " 38   1  04  30 PRI  FLT\r\n" in out
    pbx.clear_fault("digital_trunk_out_of_sync", slot=4)
    assert set(trunk_lines(pbx, "PRI")) == {Status.INS} and codes(pbx)[-1] == 390


def test_panasonic_analogue_trunks_busied_out() -> None:
    pbx = load("panasonic-analogue-trunks-busied-out")
    assert trunk_lines(pbx, "LCOT") == [Status.OUS] * 8
    assert pbx.card(3).status is Status.INS
    assert active(pbx) == {(330, f"103{n:02d}") for n in range(1, 9)}


def test_panasonic_one_trunk_dead() -> None:
    pbx = load("panasonic-one-trunk-dead")
    assert [x.number for x in pbx.co_lines() if x.status is not Status.INS] == [3]
    assert pbx.co_line(3).status is Status.OUS
    assert active(pbx) == {(330, "10303")}


def test_panasonic_extension_card_failure() -> None:
    pbx = load("panasonic-extension-card-failure")
    dead = [e.number for e in pbx.extensions() if e.status == "FLT"]
    assert dead == [str(n) for n in range(201, 217)]
    assert active(pbx) == {(231, "10100")}
    assert (205, "10100") in {(e.code, e.sub_code) for e in pbx.error_log()}


def test_panasonic_power_and_battery() -> None:
    pbx = load("panasonic-power-and-battery")
    assert {code for code, _ in active(pbx)} == {10, 11, 12, 14, 42}


def test_panasonic_clock_sync() -> None:
    pbx = load("panasonic-clock-sync")
    assert active(pbx) == {(234, "10400")}
    assert (392, "10500") in {(e.code, e.sub_code) for e in pbx.error_log()}


def test_panasonic_restart_after_power_cut() -> None:
    pbx = load("panasonic-restart-after-power-cut")
    assert codes(pbx)[-2:] == [10, 2]
    assert active(pbx) == {(2, "10000")}
    calls = [i for _, i in pbx.smdr_items() if isinstance(i, CallRecord)]
    assert calls and max(c.ended for c in calls) < pbx.error_log()[-2].when


@pytest.mark.parametrize("name", ["panasonic-stuck-night-mode", "toshiba-stuck-night-mode"])
def test_stuck_night_mode(name: str) -> None:
    pbx = load(name)
    assert (pbx.time_service.mode, pbx.time_service.automatic) == (Mode.NIGHT, False)
    now = pbx.now()
    assert now.weekday() == 1 and 9 <= now.hour < 17


def test_panasonic_voicemail_card() -> None:
    pbx = load("panasonic-voicemail-card")
    assert pbx.card(5).status is Status.FLT
    assert active(pbx) == {(216, "10500"), *((310, f"105{n:02d}") for n in range(1, 5))}


@pytest.mark.parametrize("name", ["panasonic-smdr-link-lost", "toshiba-smdr-link-lost"])
def test_smdr_link_lost(name: str) -> None:
    pbx = load(name)
    assert codes(pbx).count(510) >= 5
    assert active(pbx) == {(510, "10000")} and pbx.has_fault("smdr_disconnect")


@pytest.mark.parametrize("name", ["panasonic-programming-locked",
                                  "toshiba-programming-locked"])
def test_programming_locked(name: str) -> None:
    pbx = load(name)
    assert pbx.programming_holder is not None
    assert not pbx.acquire_programming(object())


def test_model_variants() -> None:
    tda = load("panasonic-kx-tda100")
    assert "PMPR Software File Version 3.2000" in console(tda, "VER")
    assert tda.card(0).card_type == "MPR"
    big = load("panasonic-kx-tda600")
    assert big.system.software_version.startswith("PLMPR ")
    assert {c.cabinet for c in big.cards()} == {1, 2}
    ns = load("panasonic-kx-ns700")
    assert ns.card(0).card_type == "NS-MB"
    assert [c.slot for c in ns.cards() if c.kind.virtual] == [51, 52]
    assert "  1  51 V-IPEXT  KX-NSM       4.1000   INS\r\n" in console(ns, "CARD")
    small = load("toshiba-ctx100")
    assert small.card(0).card_type == "ACTU"
    assert "VERSION : SA102MA2XXP1D12--S--.00\r" in console(small, "SHOW VERSION")


# --- Toshiba ------------------------------------------------------------------------------


def test_toshiba_healthy() -> None:
    pbx = load("toshiba-healthy")
    assert active(pbx) == set()
    assert {c.status for c in pbx.cards()} == {Status.INS}
    assert pbx.extension("2001").phantoms == ("2900",)
    assert any(isinstance(i, SystemEvent) for _, i in pbx.smdr_items())


def test_toshiba_digital_trunks_down() -> None:
    pbx = load("toshiba-digital-trunks-down")
    assert trunk_lines(pbx, "PRI") == [Status.FLT] * 23
    assert set(trunk_lines(pbx, "LCOT")) == {Status.INS}
    out = console(pbx, "SHOW ALARM", "SHOW TRUNK")
    assert " 5300 ISDN     MAJOR 010400 LOSS OF FRAME SYNC\r" in out
    assert "T005 010401 PRI  FAULT\r" in out and "T001 010301 LS   IN-SVC\r" in out


def test_toshiba_one_and_all_analogue_trunks() -> None:
    one = load("toshiba-one-trunk-dead")
    assert active(one) == {(330, "10302")}
    assert "T002 010302 LS   OUT-SVC\r" in console(one, "SHOW TRUNK")
    every = load("toshiba-analogue-trunks-busied-out")
    assert trunk_lines(every, "LCOT") == [Status.OUS] * 4
    assert console(every, "SHOW ALARM").count(" 3330 TRUNK    MINOR 0103") == 4


def test_toshiba_extension_card_failure() -> None:
    pbx = load("toshiba-extension-card-failure")
    assert [e.number for e in pbx.extensions() if e.status == "FLT"] == [
        str(n) for n in range(2001, 2017)]
    out = console(pbx, "SHOW ALARM", "SHOW PCB")
    assert " 2230 PCB      MAJOR 010100 PCB NOT RESPONDING\r" in out
    assert "0101 BDKU  1.10     FAULT\r" in out


@pytest.mark.parametrize(("name", "check"), [
    ("toshiba-pbx-dead", lambda p: not p.responding and codes(p)[-1] == 0),
    ("toshiba-total-system-failure",
     lambda p: {c.status for c in p.cards() if c.kind.role in ("extension", "trunk")}
     == {Status.FLT}),
    ("toshiba-power-and-battery", lambda p: {c for c, _ in active(p)} == {10, 11, 12, 14, 42}),
    ("toshiba-clock-sync", lambda p: active(p) == {(234, "10400")} and 392 in codes(p)),
    ("toshiba-restart-after-power-cut", lambda p: codes(p)[-2:] == [10, 2]),
])
def test_other_toshiba_scenarios(name: str, check: Callable[[PbxState], bool]) -> None:
    assert check(load(name))
