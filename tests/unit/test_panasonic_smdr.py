"""Panasonic SMDR pattern A on the real capture (shared/reference), byte for byte."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drivers.model import CallDirection
from drivers.panasonic.smdr import parse_record, parse_smdr

CAPTURE = Path(__file__).parent.parent / "fixtures" / "reference" / "panasonic-smdr-capture.txt"


def test_real_capture_parses_completely() -> None:
    records, alarms, bad = parse_smdr(CAPTURE.read_text())
    assert bad == []
    assert len(records) == 13
    assert len(alarms) == 7 and {a.code for a in alarms} == {"510"}


def test_answered_inbound_call_gives_rc_an_then_final_record() -> None:
    records, _, _ = parse_smdr(CAPTURE.read_text())
    rc, an, final = records[2:5]
    assert [r.condition for r in (rc, an, final)] == ["RC", "AN", ""]
    assert final.direction is CallDirection.INCOMING
    assert final.caller_id == "09155150730"
    assert (final.ring_s, final.duration_s) == (15, 14)
    assert final.ended_at == datetime(2011, 1, 6, 15, 7)
    assert (final.extension, final.trunk) == ("101", "01")


def test_unanswered_and_outgoing_calls() -> None:
    records, _, _ = parse_smdr(CAPTURE.read_text())
    unanswered = records[1]
    assert (unanswered.condition, unanswered.ring_s, unanswered.duration_s) == ("NA", 59, 0)
    outgoing = records[5]
    assert outgoing.direction is CallDirection.OUTGOING
    assert (outgoing.dialled, outgoing.duration_s, outgoing.ring_s) == ("09338665005", 39, None)


def record_line(*fields: str) -> str:
    widths = (8, 7, 5, 2, 25, 4, 8, 10, 2)
    return " ".join(f.rjust(w) if i == 2 else f.ljust(w)
                    for i, (f, w) in enumerate(zip(fields, widths, strict=True))) + " "


def test_clock_changed_placeholder_and_intercom() -> None:
    line = record_line("**/**/**", "**:****", "201", "01", "EXT1235", "", "00:01'05", "", "")
    record = parse_record(line)
    assert record is not None
    assert record.ended_at is None
    assert record.direction is CallDirection.INTERCOM


def test_ddi_before_caller_id() -> None:
    line = record_line("06/01/11", "15:03", "101", "01", "<D>2001<I>01612345678", "", "", "",
                       "RC")
    record = parse_record(line)
    assert record is not None
    assert (record.ddi, record.caller_id) == ("2001", "01612345678")


def test_empty_buffer_is_no_data_not_an_error() -> None:
    assert parse_smdr("NO SMDR DATA\n") == ([], [], [])


@given(st.text(max_size=200))
def test_noise_is_reported_never_raised(text: str) -> None:
    records, alarms, bad = parse_smdr(text)
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(records) + len(alarms) + len(bad) <= len(lines)


def test_truncated_record_is_reported() -> None:
    good = CAPTURE.read_text().splitlines()[7]
    _, _, bad = parse_smdr(good[:40] + "X" * 3 + "\n")
    assert len(bad) == 1


def test_intercom_has_no_co_line_but_outgoing_must() -> None:
    intercom = record_line("26/11/26", "13:58", "210", "", "EXT212", "", "00:00'41", "", "")
    record = parse_record(intercom)
    assert record is not None and record.trunk == "" and record.extension == "210"
    outgoing = record_line("26/11/26", "13:58", "210", "", "01618309527", "", "00:00'41", "", "")
    assert parse_record(outgoing) is None
