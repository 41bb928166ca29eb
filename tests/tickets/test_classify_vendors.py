"""Card knowledge comes from the run's driver: a third vendor needs no edit to classify."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.result import RunResult, RunStatus, StepResult, StepStatus
from agent.tickets.cards import families_for
from agent.tickets.faults import classify
from drivers import available_drivers
from drivers.model import Card, CardStatus, Location, to_jsonable

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ZETA_DRIVER = '''\
from typing import ClassVar

from drivers.base import Driver


class ZetaDriver(Driver):
    """A third vendor, known only through its entry point."""

    vendor = "zeta"
    processor_cards: ClassVar[frozenset[str]] = frozenset({"ZCPU"})
    extension_cards: ClassVar[frozenset[str]] = frozenset({"ZEXT"})
    trunk_cards: ClassVar[frozenset[str]] = frozenset({"ZTRK"})
'''


@pytest.fixture
def zeta_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Install a driver the way a plug-in does: a distribution with a pbxdiag.drivers entry."""
    (tmp_path / "zeta_pbx.py").write_text(textwrap.dedent(ZETA_DRIVER))
    info = tmp_path / "zeta_pbx-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zeta-pbx\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pbxdiag.drivers]\nzeta = zeta_pbx:ZetaDriver\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "zeta_pbx", raising=False)


def zeta_run(vendor: str) -> RunResult:
    cards = [Card(Location(1, 3), "ZCPU2", "Z-100", "1.0", CardStatus.FAULT),
             Card(Location(1, 4), "ZEXT16", "Z-EXT", "1.0", CardStatus.IN_SERVICE)]
    return RunResult(run_id="z1", site="zeta-site", playbook="health", started_at=T0,
                     status=RunStatus.FAILED, vendor=vendor,
                     steps=[StepResult(name="cards in service", status=StepStatus.FAILED)],
                     facts={"cards": to_jsonable(cards)})


def test_the_shipped_drivers_declare_their_card_families() -> None:
    drivers = available_drivers()
    assert "IPCMPR" in drivers["panasonic"].processor_cards
    assert "BECU" in drivers["toshiba"].processor_cards
    assert "ZCPU" not in families_for(None).processors


def test_a_third_vendors_processor_card_is_treated_as_a_processor(zeta_installed: None) -> None:
    assert "zeta" in available_drivers()
    assert families_for("zeta").processors == {"ZCPU"}
    c = classify(zeta_run("zeta"))
    assert c is not None
    assert (c.priority, c.rule) == ("P1", "processor-down")
    assert c.evidence[0] == "ZCPU2 fault (cab 1 slot 03)"


def test_without_the_driver_the_card_is_not_a_processor() -> None:
    c = classify(zeta_run("zeta"))
    assert c is not None and c.rule != "processor-down"
