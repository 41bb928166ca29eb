"""The driver contract, asserted identically for both vendors over every line.

Each test states a fact a support engineer relies on ("the one dead trunk is the only one
busied out, and there is a minor alarm on its port") without naming a vendor: the
vendor-neutral model is the whole point of the drivers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from agent.errors import InputError, ProgrammingLocked
from drivers.model import AlarmLevel, CardStatus, ExtensionState, TrunkKind, TrunkState

from .conftest import Connected

Connect = Callable[[str], Connected]


def test_healthy_site_reads_clean(connect: Connect, vendor: str) -> None:
    pbx = connect("healthy").driver
    info = pbx.system_info()
    assert info.vendor == vendor and info.model and info.software_version
    assert pbx.alarms() == []
    assert {c.status for c in pbx.cards()} == {CardStatus.IN_SERVICE}
    trunks = pbx.trunks()
    assert trunks and {t.state for t in trunks} == {TrunkState.IN_SERVICE}
    extensions = pbx.extensions()
    assert any(e.state is ExtensionState.IDLE for e in extensions)
    assert all(e.raw for e in extensions) and all(t.raw for t in trunks)
    mode = pbx.operating_mode()
    assert mode.mode in ("day", "night", "lunch", "break", "holiday")


def test_all_digital_trunks_down(connect: Connect) -> None:
    pbx = connect("digital-trunks-down").driver
    digital = [t for t in pbx.trunks() if t.kind in (TrunkKind.PRI, TrunkKind.BRI)]
    assert digital and all(t.state is not TrunkState.IN_SERVICE for t in digital)
    slots = {t.location.slot for t in digital}
    major = [a for a in pbx.alarms() if a.level is AlarmLevel.MAJOR]
    assert any(a.location is not None and a.location.slot in slots for a in major)


def test_all_analogue_trunks_busied_out(connect: Connect) -> None:
    pbx = connect("analogue-trunks-busied-out").driver
    analogue = [t for t in pbx.trunks() if t.kind is TrunkKind.ANALOGUE]
    assert analogue and all(t.busied_out for t in analogue)
    assert len(pbx.alarms()) >= len(analogue)


def test_one_trunk_dead(connect: Connect) -> None:
    pbx = connect("one-trunk-dead").driver
    trunks = pbx.trunks()
    down = [t for t in trunks if t.state is not TrunkState.IN_SERVICE]
    assert len(down) == 1 and down[0].busied_out and len(trunks) > 1
    (alarm,) = pbx.alarms()
    assert alarm.level is AlarmLevel.MINOR
    assert alarm.location is not None and alarm.location.port == down[0].location.port


def test_extension_card_failure_takes_a_block(connect: Connect) -> None:
    pbx = connect("extension-card-failure").driver
    dead_cards = [c for c in pbx.cards() if c.status is CardStatus.FAULT]
    assert len(dead_cards) == 1
    slot = dead_cards[0].location.slot
    on_card = [e for e in pbx.extensions() if e.location.slot == slot]
    assert len(on_card) in (8, 16)
    assert all(e.state is ExtensionState.FAULT for e in on_card)


def test_stuck_in_night_mode(connect: Connect) -> None:
    mode = connect("stuck-night-mode").driver.operating_mode()
    assert (mode.mode, mode.automatic) == ("night", False)


def test_error_log_since_returns_only_newer_entries(connect: Connect) -> None:
    pbx = connect("one-trunk-dead").driver
    history = pbx.error_log()
    assert len(history) >= 2
    newest = max(e.first_seen for e in history if e.first_seen is not None)
    recent = pbx.error_log(since=newest - timedelta(minutes=1))
    assert recent and all(e.first_seen is not None and e.first_seen >= newest -
                          timedelta(minutes=1) for e in recent)
    assert len(recent) < len(history)


def test_call_records_parse_completely(connect: Connect) -> None:
    pbx = connect("healthy").driver
    records = pbx.call_records()
    assert records
    assert all(r.raw for r in records)
    assert {r.direction.value for r in records} & {"incoming", "outgoing"}


def test_programming_round_trip_and_backup(connect: Connect) -> None:
    pbx = connect("healthy").driver
    number = next(e.number for e in pbx.extensions() if e.state is ExtensionState.IDLE)
    before = pbx.read_setting("extension_name", number)
    pbx.write_setting("extension_name", "Contract Test", number)
    assert pbx.read_setting("extension_name", number) == "Contract Test"
    assert any(e.name == "Contract Test" for e in pbx.extensions())
    backup = pbx.backup()
    assert "Contract Test" in backup and backup == pbx.backup()
    pbx.write_setting("extension_name", before or "", number)
    assert pbx.read_setting("extension_name", number) == before


@pytest.mark.parametrize(("key", "value"), [
    ("time_service_mode", "night"), ("time_service_switching", "manual"),
])
def test_time_service_settings_round_trip(connect: Connect, key: str, value: str) -> None:
    pbx = connect("healthy").driver
    pbx.write_setting(key, value)
    assert pbx.read_setting(key) == value
    mode = pbx.operating_mode()
    assert mode.mode == value if key == "time_service_mode" else mode.automatic is False


def test_trunk_busy_out_and_restore(connect: Connect) -> None:
    pbx = connect("healthy").driver
    number = str(pbx.trunks()[0].number)
    pbx.write_setting("trunk_state", "busied_out", number)
    assert pbx.read_setting("trunk_state", number) == "busied_out"
    assert pbx.trunks()[0].busied_out
    pbx.write_setting("trunk_state", "in_service", number)
    assert pbx.trunks()[0].state is TrunkState.IN_SERVICE


def test_clock_and_forwarding(connect: Connect) -> None:
    pbx = connect("healthy").driver
    moment = datetime(2026, 3, 29, 1, 30, 0)
    pbx.write_setting("clock", moment.isoformat())
    read = datetime.fromisoformat(pbx.read_setting("clock") or "")
    assert timedelta(0) <= read - moment < timedelta(seconds=5)
    number = pbx.extensions()[0].number
    pbx.write_setting("extension_forward", "07700900123", number)
    assert pbx.read_setting("extension_forward", number) == "07700900123"
    pbx.write_setting("extension_forward", "none", number)
    assert pbx.read_setting("extension_forward", number) == "none"


def test_pin_is_write_only(connect: Connect) -> None:
    pbx = connect("healthy").driver
    number = pbx.extensions()[0].number
    pbx.write_setting("extension_pin", "918273", number)
    assert pbx.read_setting("extension_pin", number) is None
    assert "918273" not in pbx.backup()


def test_programming_locked_refuses_and_changes_nothing(connect: Connect) -> None:
    pbx = connect("programming-locked").driver
    number = pbx.extensions()[0].number
    name = pbx.extensions()[0].name
    with pytest.raises(ProgrammingLocked):
        pbx.write_setting("extension_name", "Should Not Land", number)
    assert pbx.extensions()[0].name == name


def test_invalid_value_is_refused_before_the_line(connect: Connect) -> None:
    pbx = connect("healthy").driver
    with pytest.raises(InputError):
        pbx.write_setting("trunk_state", "sideways", "1")


def test_restore_is_guarded_and_verified(connect: Connect) -> None:
    pbx = connect("healthy").driver
    saved = pbx.backup()
    number = pbx.extensions()[0].number
    trunk = str(pbx.trunks()[0].number)
    pbx.write_setting("extension_name", "Temporary", number)
    pbx.write_setting("trunk_state", "busied_out", trunk)
    changes = pbx.restore(saved)  # no apply: the diff only
    assert len(changes) == 2
    assert pbx.read_setting("extension_name", number) == "Temporary"
    assert pbx.restore(saved, apply=True) == changes
    assert pbx.read_setting("extension_name", number) != "Temporary"
    assert pbx.read_setting("trunk_state", trunk) == "in_service"
    assert pbx.restore(saved) == []
    foreign = saved + "\n".join(["999 01 = X", "999 01 : X"]) + "\n"
    with pytest.raises(InputError, match="another site"):
        pbx.restore(foreign, apply=True)
