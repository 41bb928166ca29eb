"""The inventory's SMDR pin (``smdr: {layout: B, date_order: DMY, time: 12h}``): values the
parsers know, consistent with the site's vendor, or bad input at the key's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import InventoryError
from agent.inventory import load_inventory
from drivers.smdr import SmdrOptions

SITE = """\
sites:
  acme-bolton:
    customer: Acme Ltd
    vendor: {vendor}
    paths: ["tcp://127.0.0.1:2300"]
{smdr}"""


def inventory(tmp_path: Path, smdr: str, vendor: str = "panasonic") -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(SITE.format(vendor=vendor, smdr=smdr))
    return path


def test_a_pin_is_on_the_site_and_no_pin_is_none(tmp_path: Path) -> None:
    pinned = inventory(tmp_path, "    smdr: {layout: B, date_order: DMY, time: 12h}\n")
    site = load_inventory(pinned).site("acme-bolton")
    assert site.smdr == SmdrOptions(layout="B", date_order="DMY", time="12h")
    assert site.smdr.resolved_layout() == "panasonic-B"
    assert load_inventory(inventory(tmp_path, "")).site("acme-bolton").smdr is None
    toshiba = inventory(tmp_path, "    smdr:\n      layout: R1.03\n", vendor="toshiba")
    assert load_inventory(toshiba).site("acme-bolton").smdr == SmdrOptions(layout="R1.03")


@pytest.mark.parametrize(("smdr", "vendor", "column", "fragment"), [
    ("      layout: E\n", "panasonic", 15, "'E' is not one of"),
    ("      time: 12H\n", "panasonic", 13, "'12H' is not one of"),
    ("      date_order: YMD\n", "panasonic", 19, "'YMD' is not one of"),
    ("      layout: R1.02\n", "panasonic", 15, "layout R1.02 is not a panasonic layout"),
    ("      layout: B\n", "toshiba", 15, "layout B is not a toshiba layout"),
    ("      layout: hybrid\n      time: 24h\n", "panasonic", 13,
     "has no 24h clock to pin (it prints 12h only)"),
    ("      date_order: DMY\n", "toshiba", 19, "prints no date order to pin"),
    ("      layout: DK\n      time: 12h\n", "toshiba", 13, "layout DK has no 12h clock"),
    ("      baud: 9600\n", "panasonic", 7, "unknown key 'baud'"),
])
def test_a_bad_pin_is_an_inventory_problem_at_its_key(
        tmp_path: Path, smdr: str, vendor: str, column: int, fragment: str) -> None:
    path = inventory(tmp_path, "    smdr:\n" + smdr, vendor=vendor)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    problem = caught.value
    assert fragment in problem.message
    bad_line = len(SITE.splitlines()) + len(smdr.splitlines())  # the pin's last key
    assert (problem.path, problem.line, problem.column) == (str(path), bad_line, column)
