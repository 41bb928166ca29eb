"""The scenario's ``smdr:`` layout keys: what a PBX can print, bad combinations at their
line, and a base scenario's call history kept when only the layout changes."""

from __future__ import annotations

import pytest

from agent.errors import ScenarioError
from simulators import CallRecord, load_scenario, parse_scenario
from simulators.panasonic.smdr import format_item
from simulators.smdr_format import SmdrFormat


def test_the_layout_keys_set_the_format_and_keep_the_base_calls() -> None:
    base = load_scenario("panasonic-healthy")
    pbx = parse_scenario("base: panasonic-healthy\nsmdr: {layout: C, time: 12h}\n")
    assert pbx.smdr_format == SmdrFormat("C", None, "12h")
    assert base.smdr_format == SmdrFormat("A")
    calls = [i for _, i in pbx.smdr_items() if isinstance(i, CallRecord)]
    assert len(calls) == len([i for _, i in base.smdr_items() if isinstance(i, CallRecord)])
    line = format_item(calls[0], pbx.smdr_format)
    assert line is not None and len(line) == 120 and line[14:16] in ("AM", "PM")
    toshiba = parse_scenario("base: toshiba-healthy\nsmdr: {calls: 5, layout: DK}\n")
    assert toshiba.smdr_format == SmdrFormat("DK")


@pytest.mark.parametrize(("smdr", "line", "fragment"), [
    ("smdr:\n  layout: DK\n", 3, "layout DK is printed by Toshiba PBXs, not Panasonic"),
    ("smdr:\n  layout: hybrid\n  time: 24h\n", 4, "prints a 12h clock only"),
    ("smdr:\n  layout: hybrid\n  date_order: DMY\n", 4, "prints MDY dates only"),
    ("smdr:\n  layout: E\n", 3, "unknown SMDR layout 'E'"),
    ("smdr:\n  baud: 9600\n", 3, "unknown key 'baud' in smdr"),
])
def test_what_the_pbx_cannot_print_is_reported_at_its_line(smdr: str, line: int,
                                                           fragment: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("base: panasonic-healthy\n" + smdr, path="site.yaml")
    assert fragment in caught.value.message
    assert (caught.value.path, caught.value.line) == ("site.yaml", line)
