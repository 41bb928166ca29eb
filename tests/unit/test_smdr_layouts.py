"""Every documented SMDR layout, on fixtures written by hand from shared/DOMAIN.md's
descriptions (tests/fixtures/smdr) — not from the simulator's generator, so parser and
simulator do not share one reading — plus the real pattern-A capture."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.model import CallDirection
from drivers.panasonic.smdr import parse_stream as panasonic
from drivers.smdr import (
    PANASONIC_LAYOUTS,
    TOSHIBA_LAYOUTS,
    UNKNOWN,
    SmdrOptions,
    SmdrRecord,
    SmdrStream,
    numbered_lines,
    to_json,
)
from drivers.toshiba.smdr import parse_stream as toshiba

FIXTURES = Path(__file__).parent.parent / "fixtures"
TODAY = date(2026, 12, 1)


def read(name: str) -> str:
    path = FIXTURES / "reference" / name if name.endswith("capture.txt") else (
        FIXTURES / "smdr" / name)
    return path.read_bytes().decode("latin-1")


def kinds(stream: SmdrStream) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in stream.items:
        out[item.kind] = out.get(item.kind, 0) + 1
    return out


def records(stream: SmdrStream) -> list[tuple[int, SmdrRecord]]:
    return [(i.line, i.record) for i in stream.items if i.record is not None]


def test_reference_capture_is_pattern_a_and_reads_completely() -> None:
    stream = panasonic(read("panasonic-smdr-capture.txt"))
    assert stream.layout == "panasonic-A"
    assert kinds(stream) == {"alarm": 7, "skip": 4, "record": 13}
    # Every date is 06/01: the stream cannot tell the order, so the default is used and said.
    assert (stream.date_order, stream.date_order_told) == ("DMY", False)
    final = stream.items[11].record
    assert final is not None and stream.items[11].line == 12
    assert (final.at, final.ring, final.duration) == (datetime(2011, 1, 6, 15, 7), 15, 14)


def test_twelve_hour_site() -> None:
    stream = panasonic(read("panasonic-a-12h.txt"))
    assert stream.layout == "panasonic-A" and kinds(stream) == {
        "skip": 2, "record": 10, "alarm": 1}
    assert (stream.date_order, stream.date_order_told) == ("DMY", True)  # 13/02/26
    got = {line: r for line, r in records(stream)}
    assert got[3].at == datetime(2026, 2, 13, 10, 3)
    assert got[7].at == datetime(2026, 2, 13, 12, 11)
    assert got[8].at == datetime(2026, 2, 13, 13, 6)
    assert got[10].at == datetime(2026, 2, 13, 0, 0)
    transferred = got[7]
    assert (transferred.extension, transferred.condition, transferred.caller_id,
            transferred.ddi) == ("*103", "TR", "07700900123", "2001")
    assert got[11].at is None and got[11].account_code == "1234"
    assert got[12].dialled == "123.............."
    alarm = stream.items[8].alarm
    assert alarm is not None and alarm.first_seen == datetime(2026, 2, 13, 13, 10)


def test_twelve_hour_lines_on_a_site_pinned_24h_are_errors_not_records() -> None:
    stream = panasonic(read("panasonic-a-12h.txt"), SmdrOptions(time="24h"))
    errors = [i for i in stream.items if i.kind == "error"]
    assert len(errors) == 10 and "pinned" in errors[0].detail
    assert [i.line for i in stream.items if i.kind == "record"] == [11]  # the ** record


def test_form_feed_page_headers_keep_the_files_line_numbers() -> None:
    text = read("panasonic-a-formfeed.txt")
    assert text.count("\f") == 4 and "\r\n" in text
    stream = panasonic(text)
    by_line = {i.line: (i.kind, i.detail) for i in stream.items}
    assert by_line[1] == ("skip", "header") and by_line[5] == ("skip", "header")
    assert by_line[9] == ("skip", "page") and by_line[10] == ("skip", "header")
    assert by_line[13] == ("error", "not a panasonic-A record")  # condition code XX
    assert [i.line for i in stream.items if i.kind == "alarm"] == [7, 12]
    assert [line for line, _ in records(stream)] == [3, 4, 8]
    # str.splitlines() would have put the bad line at 17.
    assert text.splitlines()[16].startswith("06/01/26 14:55")


def test_kx_ns_virtual_slot_sub_code() -> None:
    alarm = panasonic(read("panasonic-a-formfeed.txt")).items[6].alarm
    assert alarm is not None and (alarm.code, alarm.sub_code, alarm.location) == (
        "230", "01*10100", None)


def test_pattern_b_cost_column_and_month_first_dates() -> None:
    stream = panasonic(read("panasonic-b.txt"))
    assert stream.layout == "panasonic-B" and kinds(stream) == {"skip": 2, "record": 4}
    assert (stream.date_order, stream.date_order_told) == ("MDY", True)
    (_, first), (_, second), (_, third), (_, fourth) = records(stream)
    assert (first.at, first.cost, first.duration) == (
        datetime(2026, 2, 13, 14, 44), "EU00000.00", 135)
    assert (second.extension, second.cost, second.account_code) == (
        "1102", "00560.00EU", "4321")
    assert (third.extension, third.condition) == ("*103", "TR")
    assert fourth.direction is CallDirection.INTERCOM


def test_pattern_b_read_in_pattern_a_columns_is_rejected_not_misread() -> None:
    stream = panasonic(read("panasonic-b.txt"), SmdrOptions(layout="A"))
    assert kinds(stream) == {"skip": 2, "error": 4}


def test_pattern_c_four_digit_co_and_long_dial_number() -> None:
    stream = panasonic(read("panasonic-c.txt"))
    assert stream.layout == "panasonic-C" and kinds(stream) == {"skip": 2, "record": 2}
    (_, first), (_, second) = records(stream)
    assert (first.co, first.dialled) == ("0001", "004930123456789012345")
    assert (second.co, second.caller_id, second.ring) == ("0012", "00441134960000", 20)


def test_hybrid_rs232_format() -> None:
    stream = panasonic(read("panasonic-hybrid.txt"))
    assert stream.layout == "panasonic-hybrid" and kinds(stream) == {"skip": 2, "record": 5}
    got = dict(records(stream))
    assert got[3].at == datetime(2005, 1, 4, 0, 11)
    assert (got[3].caller_id, got[3].duration, got[3].account_code) == (
        "01134960123", 7, "")
    assert got[4].account_code == "1234"
    assert got[5].condition == "TR"
    assert (got[6].extension, got[6].co, got[6].at) == (
        "", "02", datetime(2005, 1, 4, 13, 6))
    assert got[7].at == datetime(2005, 12, 25, 23, 59)


def test_records_fitting_no_layout_are_reported_as_such() -> None:
    text = "hello world\n06/01/11 14:44    MN ALM #510 00 10000 SMDR disconnect\n"
    stream = panasonic(text)
    assert stream.layout == UNKNOWN
    assert [(i.kind, i.detail[:16]) for i in stream.items] == [
        ("error", "layout not told:"), ("alarm", "")]


def test_toshiba_r102() -> None:
    stream = toshiba(read("toshiba-r102.txt"), today=TODAY)
    assert stream.layout == "toshiba-R1.02"
    assert kinds(stream) == {"record": 5, "continuation": 1}
    assert stream.items[2].continuation_of == 2
    incoming = stream.items[1].record
    assert incoming is not None
    assert (incoming.caller_id, incoming.ddi, incoming.co, incoming.year_inferred) == (
        "01134960123", "2201", "2", True)
    assert incoming.at == datetime(2026, 11, 27, 9, 15)
    assert incoming.raw.count("\n") == 1


def test_toshiba_r103_unsupervised_trunks_and_second_lines() -> None:
    stream = toshiba(read("toshiba-r103.txt"), today=TODAY)
    assert stream.layout == "toshiba-R1.03"
    assert kinds(stream) == {"record": 6, "continuation": 3, "error": 1}
    cont = {i.line: i.continuation_of for i in stream.items if i.kind == "continuation"}
    assert cont == {3: 2, 5: 4, 8: 7}
    got = dict(records(stream))
    assert (got[1].extension, got[1].co, got[1].direction) == (
        "1234", "1", CallDirection.OUTGOING)
    assert (got[2].caller_id, got[2].ddi) == ("01134960123", "2201")
    assert (got[4].co, got[4].direction, got[4].ddi) == (
        "2", CallDirection.INCOMING, "2202")
    assert got[4].raw.startswith("N 003      0 A00300201")
    assert got[6].dialled == "9016135550100"
    assert got[9].direction is CallDirection.INTERCOM
    assert stream.items[-1].line == 10 and stream.items[-1].kind == "error"


def test_r103_lines_on_a_site_pinned_r102_are_errors() -> None:
    stream = toshiba(read("toshiba-r103.txt"), SmdrOptions(layout="R1.02"), today=TODAY)
    assert kinds(stream).get("record", 0) == 0


def test_strata_dk_printout() -> None:
    stream = toshiba(read("toshiba-dk.txt"), today=TODAY)
    assert stream.layout == "toshiba-DK" and kinds(stream) == {"record": 5}
    first, released, after, modem, disa = (r for _, r in records(stream))
    assert (first.co, first.extension, first.at_text, first.duration,
            first.dialled) == ("01", "201", "09:15", 150, "8005551234")
    assert released.condition == after.condition == "CPC"
    assert after.account_code == "123456"
    assert modem.extension == "MODM" and modem.direction is CallDirection.OTHER
    assert (disa.extension, disa.dialled) == ("DISA", "2125550100")
    assert to_json(stream.items[0])["record"]["at"] == "09:15"


def test_json_object_has_exactly_one_payload() -> None:
    payloads = {"record", "alarm", "skip", "continuation_of", "error"}
    for name, parse in (("panasonic-a-formfeed.txt", panasonic), ("toshiba-r103.txt", None)):
        text = read(name)
        stream = panasonic(text) if parse else toshiba(text, today=TODAY)
        for item in stream.items:
            obj = to_json(item)
            assert len(payloads & obj.keys()) == 1 and obj["line"] == item.line


def test_lines_split_on_newline_only() -> None:
    assert list(numbered_lines("a\fb\r\n\n\x00\n c\x0bd")) == [(1, "a\fb"), (4, " c\x0bd")]
    assert list(numbered_lines("x\n\f\n \n")) == [(1, "x"), (2, "\f")]


NOISE = st.text(alphabet=st.sampled_from(
    [*"0123456789/:'*<>&ADINTMPRC- .\"", "\f", "\r", "\x00", "\x85", "\xe9", "\xff", "\t",
     "\n", "\n", "\u2028"]), max_size=300)
FIXTURE_LINES = [line for name in ("panasonic-a-12h.txt", "panasonic-b.txt",
                                   "panasonic-hybrid.txt", "toshiba-r103.txt",
                                   "toshiba-dk.txt", "panasonic-smdr-capture.txt")
                 for line in read(name).split("\n")]
MUTATED = st.lists(st.tuples(st.sampled_from(FIXTURE_LINES), st.integers(0, 120), NOISE),
                   max_size=8).map(lambda parts: "\n".join(
                       line[:cut] + noise for line, cut, noise in parts))
LAYOUTS = st.sampled_from([None, *PANASONIC_LAYOUTS, *TOSHIBA_LAYOUTS, "nonsense"])


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(NOISE, MUTATED), layout=LAYOUTS,
       order=st.sampled_from([None, "DMY", "MDY"]), time=st.sampled_from([None, "12h", "24h"]))
def test_no_exception_escapes_and_every_line_is_accounted(text: str, layout: str | None,
                                                          order: str | None,
                                                          time: str | None) -> None:
    options = SmdrOptions(layout=layout, date_order=order, time=time)  # type: ignore[arg-type]
    expected = [n for n, _ in numbered_lines(text)]
    for stream in (panasonic(text, options), toshiba(text, options, today=TODAY)):
        assert [i.line for i in stream.items] == expected
        for item in stream.items:
            to_json(item)


@pytest.mark.parametrize("line", [
    "31/02/26 10:03AM   101 01 0163                                                 ",
    "13/02/26 13:03PM   101 01 01632960123                    00:02'15               ",
    "13/02/26 10:03AM   101 01 01632960123                    00:99'15               ",
])
def test_impossible_dates_times_and_durations_are_errors(line: str) -> None:
    (item,) = panasonic(line, SmdrOptions(layout="A")).items
    assert item.kind == "error", item
