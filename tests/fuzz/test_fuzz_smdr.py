"""Fuzz the SMDR parsers of both vendors: any stream, any pinned option, no exception.

A call logger's port receives whatever the line delivers: form feeds between pages, bare
CRs, NULs and 8-bit bytes from a noisy serial cable. Each parser returns records and bad
lines for all of it (issue 13 #3).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from drivers.panasonic import smdr as panasonic
from drivers.smdr import LAYOUT_ALIASES, PANASONIC_LAYOUTS, TOSHIBA_LAYOUTS, SmdrOptions
from drivers.toshiba import smdr as toshiba

from .budget import FUZZ
from .mutations import mutated
from .strategies import LINE_CHARACTERS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "smdr"
CAPTURES = {path.stem: path.read_text(encoding="latin-1")
            for path in sorted(FIXTURES.glob("*.txt"))}
TODAY = date(2026, 3, 1)


def stream(vendor: str) -> st.SearchStrategy[str]:
    captures = [text for name, text in CAPTURES.items() if name.startswith(vendor)]
    return st.one_of(
        st.sampled_from(captures).flatmap(mutated),
        st.text(LINE_CHARACTERS, max_size=400),
        st.lists(st.sampled_from(captures).map(str.splitlines).flatmap(st.sampled_from),
                 max_size=12).map("\r\n".join).flatmap(mutated),
    )


def options(layouts: tuple[str, ...]) -> st.SearchStrategy[SmdrOptions | None]:
    return st.one_of(st.none(), st.builds(
        SmdrOptions,
        layout=st.sampled_from([None, *layouts, *LAYOUT_ALIASES, "nonsense"]),
        date_order=st.sampled_from([None, "DMY", "MDY"]),
        time=st.sampled_from([None, "12h", "24h"])))


def check(records: list[object], bad: list[tuple[int, str]]) -> None:
    assert isinstance(records, list)
    for number, text in bad:
        assert isinstance(number, int) and isinstance(text, str)


@given(text=stream("panasonic"), pinned=options(PANASONIC_LAYOUTS))
@example(text="\f\x00\r\r\n\xff\xfe 01/02/26 10:00  201  01 1234\f", pinned=None)
@FUZZ
def test_panasonic_smdr_never_raises(text: str, pinned: SmdrOptions | None) -> None:
    records, alarms, bad = panasonic.parse_smdr(text, pinned)
    check(records, bad)
    assert isinstance(alarms, list)
    for line in text.splitlines()[:3]:
        panasonic.parse_record(line)


@pytest.mark.parametrize("today", [TODAY, date(2024, 2, 29), date(2026, 12, 31)])
@given(text=stream("toshiba"), pinned=options(TOSHIBA_LAYOUTS))
@example(text="\f\x00\r\xff", pinned=None)
@FUZZ
def test_toshiba_smdr_never_raises(today: date, text: str, pinned: SmdrOptions | None) -> None:
    records, bad = toshiba.parse_smdr(text, today=today, options=pinned)
    check(records, bad)
    for line in text.splitlines()[:3]:
        toshiba.parse_record(line, today=today)
