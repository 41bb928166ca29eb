"""Parts derivation and stock lists: pure functions over plain facts and real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import InputError
from agent.pack.parts import CHECK_THE_CABINET, load_catalogue, load_stock, parts_needed


def _card(slot: int, kind: str, status: str = "in_service") -> dict[str, object]:
    return {"location": {"cabinet": 1, "slot": slot, "port": None}, "type": kind,
            "model_number": "", "status": status}


def _alarm(code: str, slot: int | None = None) -> dict[str, object]:
    return {"code": code, "location": {"cabinet": 1, "slot": slot, "port": None},
            "message": "", "recovery": False, "cleared_at": None}


def test_a_digital_trunk_out_of_sync_needs_the_network_termination() -> None:
    facts = {"cards": [_card(4, "PRI30")], "alarms": [_alarm("301", 4)]}
    needs = parts_needed(load_catalogue("panasonic"), facts)
    assert [n.item.key for n in needs] == ["termination-rj45", "termination-bnc"]
    assert all(n.part_label == CHECK_THE_CABINET for n in needs)


def test_a_recovered_failure_and_a_330_bring_nothing() -> None:
    facts = {"cards": [_card(3, "LCOT8")], "error_log": [
        {**_alarm("300", 3), "cleared_at": "2026-01-01T00:00:00"}, _alarm("330", 3)]}
    assert parts_needed(load_catalogue("panasonic"), facts) == []


def test_a_toshiba_card_is_named_by_its_description() -> None:
    facts = {"cards": [_card(3, "RCOU", "fault")], "alarms": [_alarm("2230", 3)]}
    (need,) = parts_needed(load_catalogue("toshiba"), facts)
    assert need.item.description == "Loop-start CO line card (RCOU)"
    assert need.part_label == CHECK_THE_CABINET
    assert len(need.reasons) == 2  # the card's state and the alarm


def test_stock_csv_and_yaml(tmp_path: Path) -> None:
    csv = tmp_path / "stock.csv"
    csv.write_text("part,quantity,location\nKX-TDA0180,2,shelf B3\npsu,0,store\n")
    stock = load_stock(csv)
    assert stock["KX-TDA0180"].location == "shelf B3"
    facts = {"cards": [_card(3, "LCOT8", "fault")]}
    (need,) = parts_needed(load_catalogue("panasonic"), facts, stock)
    assert need.availability == "in stock — take from shelf B3 (2 held)"
    bad = tmp_path / "bad.csv"
    bad.write_text("part,quantity,location\nKX-TDA0180,two,shelf\n")
    with pytest.raises(InputError) as err:
        load_stock(bad)
    assert err.value.line == 2
    yaml_file = tmp_path / "stock.yaml"
    yaml_file.write_text("KX-TDA0180: {quantity: 1, location: van}\npsu: {location: van}\n")
    with pytest.raises(InputError) as err:
        load_stock(yaml_file)
    assert err.value.line == 2
