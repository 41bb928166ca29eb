"""Property tests: damaged console output is reported line by line, never raised.

Whatever happens to a reply (lines cut short, noise bytes, random text), a parser returns
what it could read plus the lines it could not; untouched lines parse exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.panasonic import parsers
from drivers.panasonic.smdr import parse_smdr

FIXTURES = Path(__file__).parent.parent / "fixtures" / "panasonic"
TABLES: dict[str, Callable[[str], tuple[Any, list[tuple[int, str]]]]] = {
    "dead-trunk-card.err.txt": parsers.parse_error_log,
    "dead-trunk-card.card.txt": parsers.parse_cards,
    "dead-trunk-card.co.txt": parsers.parse_trunks,
    "healthy.ext.txt": parsers.parse_extensions,
}
# Line-structure characters are left out: a reply's lines are split before parsing.
NOISE = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255,
                                       blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85"),
                min_size=1, max_size=5)


@st.composite
def damaged(draw: st.DrawFn, name: str) -> tuple[list[str], list[str], set[int]]:
    original = (FIXTURES / name).read_text().splitlines()
    lines = list(original)
    touched: set[int] = set()
    for _ in range(draw(st.integers(0, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        if draw(st.booleans()):
            lines[index] = line[:draw(st.integers(0, max(len(line) - 1, 0)))]
        else:
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(NOISE) + line[at:]
        touched.add(index)
    return original, lines, touched


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(TABLES)), st.data())
def test_damaged_tables_never_raise_and_keep_clean_lines(name: str, data: st.DataObject) -> None:
    parse = TABLES[name]
    original, lines, touched = data.draw(damaged(name))
    items, bad = parse("\n".join(lines))
    clean_items, _ = parse("\n".join(original))
    parsed_raw = {item.raw for item in items}
    for index, line in enumerate(original):
        if index not in touched and line.strip() and index > 0:
            assert line.rstrip() in parsed_raw
    for item in items:
        assert item.raw in {line.rstrip() for line in lines}
    assert all(isinstance(n, int) and isinstance(text, str) for n, text in bad)
    assert len(items) <= len(clean_items) + len(touched)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_random_text_never_raises(text: str) -> None:
    for parse in (*TABLES.values(), parsers.parse_alarms, parsers.parse_version,
                  parsers.parse_mode):
        _value, bad = parse(text)
        assert isinstance(bad, list)
    records, alarms, bad = parse_smdr(text)
    assert isinstance(records, list) and isinstance(alarms, list) and isinstance(bad, list)


def test_empty_reply_is_not_a_parse_of_nothing() -> None:
    cards, bad = parsers.parse_cards("")
    assert cards == [] and bad, "a missing table header must be reported"
    assert parsers.parse_error_log("NO ERROR LOG") == ([], [])
