"""The Toshiba Strata console session, fed bytes directly and checked against its document.

Expected lines come from docs/dialects/toshiba.md wherever the document gives an example,
so the simulator and the contract cannot drift apart silently.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators import (
    CallKind,
    CallRecord,
    Level,
    PbxState,
    Status,
    SystemIdentity,
    ToshibaSession,
    load_scenario,
    session_for,
)
from simulators.models import TOSHIBA_VERSION
from simulators.toshiba.alarms import CATEGORY_NAMES, TEXTS, all_codes, canonical_code
from simulators.toshiba.console import PAGER_PROMPT
from simulators.toshiba.smdr import call_lines

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "dialects" / "toshiba.md"
DOMAIN = REPO.parent / "shared" / "DOMAIN.md"
NOW = datetime(2026, 11, 27, 15, 48, 13)  # a Friday
PROMPT = "STRATA-CTX670# "
PGM_PROMPT = "STRATA-CTX670(PGM)# "
ERASE = "\r" + " " * len(PAGER_PROMPT) + "\r"


def clock() -> datetime:
    return NOW


def doc_blocks() -> list[list[str]]:
    """Every fenced block of the document, as lines with the literal ``\\r`` removed."""
    blocks = re.findall(r"```\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [[line.removesuffix("\\r") for line in b.splitlines()] for b in blocks]


def doc_block(first_line: str) -> list[str]:
    return next(b for b in doc_blocks() if b and b[0] == first_line)


class Term:
    """A Toshiba session plus what it sent; ``type`` returns the output of one ``feed``."""

    def __init__(self, pbx: PbxState, *, login_required: bool = False) -> None:
        self.sent: list[bytes] = []
        self.session = ToshibaSession(pbx, login_required=login_required,
                                      send=self.sent.append, password="strata")
        self.session.start()
        self.banner = self.take()

    def take(self) -> str:
        out = b"".join(self.sent)
        self.sent.clear()
        assert all(byte < 0x80 for byte in out), "the PBX never sends 8-bit bytes"
        assert b"\n" not in out, "the Strata ends its lines with CR only"
        return out.decode("ascii")

    def type(self, data: bytes | str) -> str:
        self.session.feed(data.encode("ascii") if isinstance(data, str) else data)
        return self.take()

    def command(self, line: str, prompt: str = PROMPT) -> list[str]:
        out = self.type(line + "\r")
        assert out.startswith(line + "\r")
        assert out.endswith(prompt), out[-60:]
        body = out[len(line) + 1:-len(prompt)]
        assert body == "" or body.endswith("\r")
        return body.split("\r")[:-1]


@pytest.fixture
def healthy() -> PbxState:
    return load_scenario("toshiba-healthy", host_clock=clock)


@pytest.fixture
def term(healthy: PbxState) -> Term:
    t = Term(healthy)
    assert t.command("SET LENGTH 0") == ["COMPLETED"]
    return t


# --- session start ------------------------------------------------------------------------


def test_ssh_banner_is_the_doc_block(healthy: PbxState) -> None:
    t = Term(healthy)
    doc = doc_block("")  # the first block: the SSH greeting
    assert t.banner == "\r".join(doc).replace("␠", " ")
    assert t.banner == ("\rSTRATA CTX670 REMOTE MAINTENANCE\r*** ACCESS LEVEL: TECH1 ***\r\r"
                        + PROMPT)


def test_login_dialogue(healthy: PbxState) -> None:
    t = Term(healthy, login_required=True)
    assert t.banner == "\rSTRATA CTX670 REMOTE MAINTENANCE\rUsername: "
    assert t.type("tech1\r") == "tech1\rPassword: "
    assert t.type("strata\r") == "\r*** ACCESS LEVEL: TECH1 ***\r\r" + PROMPT
    assert t.command("SHOW VERSION")[0] == "SYSTEM  : STRATA CTX670"


def test_third_failed_login_disconnects(healthy: PbxState) -> None:
    t = Term(healthy, login_required=True)
    for attempt in range(3):
        t.type("TECH1\r")
        out = t.type("wrong\r\n")
        assert out.startswith("\rACCESS DENIED\r")
        assert out.endswith("Username: ") == (attempt < 2)
    assert out.endswith("DISCONNECTED\r")
    assert t.session.closed
    assert t.type("SHOW VERSION\r") == ""


def test_session_for_picks_the_vendor(healthy: PbxState) -> None:
    panasonic = load_scenario("panasonic-healthy", host_clock=clock)
    for pbx, start in ((healthy, b"\rSTRATA CTX670"), (panasonic, b"\r\nPanasonic KX-TDE200")):
        out: list[bytes] = []
        session_for(pbx, login_required=False, send=out.append, username="U",
                    password=None).start()
        assert b"".join(out).startswith(start)
    pbx = PbxState(SystemIdentity("Siemens", "HiPath", "1"))
    with pytest.raises(ValueError, match="no console dialect"):
        session_for(pbx, login_required=False, send=print, username="U", password=None)


# --- commands, checked against the doc ----------------------------------------------------


def test_show_version(term: Term) -> None:
    assert term.command("SHOW VERSION") == doc_block("SYSTEM  : STRATA CTX670")


def test_version_code_decodes_as_documented(healthy: PbxState) -> None:
    match = TOSHIBA_VERSION.fullmatch(healthy.system.software_version)
    assert match is not None
    assert match.groupdict() == {"product": "N", "country": "A", "release": "102",
                                 "software": "MA2XX", "ipl": "P1", "dtmf": "D12",
                                 "flags": "BXSEM", "suffix": "00"}
    small = load_scenario("toshiba-ctx100", host_clock=clock)
    flags = TOSHIBA_VERSION.fullmatch(small.system.software_version)
    assert flags is not None and (flags["product"], flags["flags"]) == ("S", "--S--")


def test_show_alarm(term: Term, healthy: PbxState) -> None:
    assert term.command("SHOW ALARM") == ["NO ACTIVE ALARM"]
    healthy.inject_fault("dead_card", slot=3)
    doc = doc_block("DATE     TIME     CODE CATEGORY SEV   EQUIP  DESCRIPTION")
    assert term.command("SHOW ALARM") == [doc[0], doc[1].replace("010300", "010300")]
    healthy.inject_fault("trunk_busied_out", co=2)
    lines = term.command("SHOW ALARM")
    assert lines[1].startswith("11/27/26 15:48:13 2230 PCB      MAJOR 010300")
    assert lines[2] == "11/27/26 15:48:13 3330 TRUNK    MINOR 010302 CO LINE NO LOOP CURRENT"


def test_alarm_history_and_from(term: Term, healthy: PbxState) -> None:
    history = term.command("SHOW ALARM HISTORY")
    assert history[0].startswith("DATE     TIME     CODE")
    assert [line[18:22] for line in history[1:]] == ["1002", "3330", "5300", "5390"]
    assert history[3] == "11/18/26 08:48:13 5300 ISDN     MAJOR 010400 LOSS OF FRAME SYNC"
    recent = term.command("SHOW ALARM HISTORY FROM 11/18/26 09:00")
    assert recent == [history[0], history[4]]
    assert term.command("SHOW ALARM HISTORY FROM 11/28/26 09:00") == ["ALARM HISTORY EMPTY"]
    assert term.command("SHOW ALARM HISTORY SINCE 11/18/26 09:00") == [
        "?ERR 02 INVALID PARAMETER"]
    assert term.command("SHOW ALARM NOW") == ["?ERR 02 INVALID PARAMETER"]


def test_t1_events_fall_in_the_t1_category() -> None:
    pbx = load_scenario("toshiba-healthy", host_clock=clock)
    pbx.log_error(Level.MJ, 300, "10600", "Digital trunk out of sync")  # no card: ISDN
    t = Term(pbx)
    t.command("SET LENGTH 0")
    assert t.command("SHOW ALARM HISTORY")[-1].startswith("11/27/26 15:48:13 5300 ISDN")


def test_show_pcb_trunk_station_dn(term: Term, healthy: PbxState) -> None:
    pcb = term.command("SHOW PCB")
    doc = doc_block("SLOT PCB   VER      STATUS")
    assert pcb[:2] == doc[:2]
    assert pcb[4] == doc[2].replace("FAULT", "IN-SVC")
    healthy.inject_fault("dead_card", slot=3)
    assert term.command("SHOW PCB")[4] == doc[2]
    trunks = term.command("SHOW TRUNK")
    assert trunks[0] == doc_block("TRK  EQUIP  TYPE STATUS")[0]
    assert trunks[1] == "T001 010301 LS   FAULT"
    assert trunks[5] == "T005 010401 PRI  IN-SVC"
    assert len(trunks) == 1 + 27
    stations = term.command("SHOW STATION")
    assert stations[:2] == doc_block("PDN   EQUIP  TYPE NAME             STATUS")
    assert "2014  010114 DKT                   IDLE" in stations
    assert "2016  010116 DKT                   NOT-CONN" in stations
    assert "2101  010201 STD  Fax              IDLE" in stations
    dns = term.command("SHOW DN")
    doc_dn = doc_block("DN    TYPE EQUIP  PDN")
    assert dns[:2] == doc_dn[:2]
    assert dns[-1] == "2900  PhDN 010101 2001"


def test_show_mode_and_time(term: Term, healthy: PbxState) -> None:
    assert term.command("SHOW MODE") == doc_block("DAY/NIGHT MODE : DAY")
    assert term.command("SHOW TIME") == doc_block("SYSTEM TIME : 11/27/26 FRI 15:48:13")
    healthy.inject_fault("stuck_night_mode")
    assert term.command("SHOW MODE") == ["DAY/NIGHT MODE : NIGHT", "CONTROL        : MANUAL"]


def test_stations_fault_with_their_pcb(term: Term, healthy: PbxState) -> None:
    healthy.inject_fault("dead_card", slot=1)
    stations = term.command("SHOW STATION")
    assert all(line.endswith("FAULT") for line in stations[1:17])
    assert stations[17].endswith("IDLE")


# --- SMDR ---------------------------------------------------------------------------------


def test_the_published_sample_record() -> None:
    record = CallRecord(datetime(2026, 6, 28, 12, 21, 20), "1234", CallKind.OUTGOING,
                        "12134567890", co=1, duration_s=630, record_no=1)
    sample = "N 001 00 DN1234 T000001 06/28 12:10:50 00:10:30.0 12134567890"
    assert call_lines(record) == [sample]
    doc = (DOMAIN if DOMAIN.exists() else DOC).read_text(encoding="utf-8")
    assert f"`{sample}`" in doc or f"\n{sample}\n" in doc


def test_incoming_abandoned_transfer_and_caller_id_lines() -> None:
    ended = datetime(2026, 11, 27, 10, 0, 0)
    answered = CallRecord(ended, "2001", CallKind.INCOMING, "01134960123", co=5, ddi="2201",
                          ring_s=4, duration_s=75, record_no=127)
    assert call_lines(answered) == ["N 127 00 T000005 DN2001 11/27 09:58:45 00:01:15.0",
                                    "& 01134960123       2201"]
    abandoned = CallRecord(ended, "2001", CallKind.INCOMING, "", co=5, ring_s=40,
                           duration_s=0, condition="NA", record_no=128)
    assert call_lines(abandoned) == ["B 000 00 T000005 DN2001 11/27 10:00:00 00:00:00.0"]
    transfer = CallRecord(ended, "2002", CallKind.INCOMING, "07700900123", co=1,
                          duration_s=5, condition="TR", record_no=3)
    assert call_lines(transfer)[0] == "X 003 00 T000001 DN2002 11/27 10:00:00 00:00:05.0"
    intercom = CallRecord(ended, "2002", CallKind.INTERCOM, "2003", duration_s=60, record_no=4)
    assert call_lines(intercom) == ["N 004 00 DN2002 DN2003 11/27 09:59:00 00:01:00.0"]
    assert call_lines(CallRecord(ended, "2002", CallKind.INCOMING, "1", co=1,
                                 condition="RC")) != []  # rendered only via item_lines


def test_show_smdr(term: Term, healthy: PbxState) -> None:
    lines = term.command("SHOW SMDR")
    records = [line for line in lines if not line.startswith("&")]
    assert records[0] == "I 001 00 - - 07/30 11:48:13 00:00:00.0"
    numbers = [int(line[2:5]) for line in records]
    assert numbers == [n % 128 for n in range(1, len(records) + 1)]
    pattern = re.compile(r"[NBX] \d{3} 00 (DN\d+|T\d{6}) (DN\d+|T\d{6}) \d\d/\d\d "
                         r"\d\d:\d\d:\d\d \d\d:\d\d:\d\d\.0( \d+)?")
    assert all(pattern.fullmatch(line) for line in records[1:]), records
    assert any(line.startswith("& ") for line in lines)
    assert not any(re.search(r" (RC|AN)$", line) for line in lines)
    assert term.command("SHOW SMDR FROM 11/28/26 00:00") == ["NO SMDR RECORD"]
    assert term.command("SHOW SMDR FROM tomorrow") == ["?ERR 02 INVALID PARAMETER"]


def test_restart_and_clock_change_records() -> None:
    pbx = load_scenario("toshiba-restart-after-power-cut", host_clock=clock)
    t = Term(pbx)
    t.command("SET LENGTH 0")
    lines = t.command("SHOW SMDR")
    assert re.fullmatch(r"I \d{3} 00 - - 11/27 15:48:13 00:00:00\.0", lines[-1])
    t.command("PGM", PGM_PROMPT)
    assert t.command("PUT 102 11/27/26 16:00:00", PGM_PROMPT) == ["COMPLETED"]
    t.command("END")
    last = t.command("SHOW SMDR")[-1]
    assert re.fullmatch(r"T \d{3} 00 - - 11/27 15:48:13 00:00:00\.0 11/27 16:00:00", last)
    assert int(last[2:5]) == (int(lines[-1][2:5]) + 1) % 128


# --- alarm codes --------------------------------------------------------------------------


def test_every_documented_alarm_code_is_defined() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for code in all_codes():
        event = canonical_code(code)
        assert event is not None and event in TEXTS
        category, text = TEXTS[event]
        assert len(text) <= 32
        assert text.split(" (")[0] in doc, text
        first = code // 1000
        assert CATEGORY_NAMES[first] in doc
        assert category in (None, first)
    assert canonical_code(2300) is None  # a digital event is T1 or ISDN, never PCB
    assert canonical_code(1999) is None


# --- paging -------------------------------------------------------------------------------


def busy(count: int) -> PbxState:
    pbx = PbxState(SystemIdentity("Toshiba", "CTX670", "NA102MA2XXP1D12BXSEM.00"),
                   host_clock=clock)
    for i in range(count):
        pbx.log_error(Level.MN, 510, "10000", "SMDR disconnect",
                      when=datetime(2026, 11, 1) + timedelta(minutes=i))
    return pbx


def test_paging_is_on_with_24_lines() -> None:
    t = Term(busy(40))
    out = t.type("SHOW ALARM HISTORY\r")
    assert out.endswith("\r" + PAGER_PROMPT.decode())
    assert out.count("\r") == 1 + 24  # the echo, then the header and 23 entries
    out = t.type("c")
    assert out.startswith(ERASE)
    assert out.endswith(PROMPT)
    assert out.count("6510") == 40 - 23


def test_enter_shows_one_more_line_and_space_a_page() -> None:
    t = Term(busy(60))
    t.type("SHOW ALARM HISTORY\r")
    out = t.type("\r\n")
    line = "11/01/26 00:23:00 6510 RESOURCE MINOR 010000 SMDR OUTPUT DISCONNECTED\r"
    assert out == ERASE + line + PAGER_PROMPT.decode()
    out = t.type(" ")
    assert out.count("6510") == 24 and out.endswith(PAGER_PROMPT.decode())
    assert t.type(b"xyz\x1b\xff") == ""
    assert t.type("Q") == ERASE + PROMPT


@pytest.mark.parametrize(("setting", "lines"), [("5", 5), ("99", 61), ("0", 61)])
def test_set_length(setting: str, lines: int) -> None:
    t = Term(busy(60))
    assert t.command(f"SET LENGTH {setting}") == ["COMPLETED"]
    out = t.type("SHOW ALARM HISTORY\r")
    assert out.count("\r") - 1 == lines
    assert out.endswith(PROMPT if lines == 61 else PAGER_PROMPT.decode())


@pytest.mark.parametrize("args", ["", " LENGTH", " LENGTH 4", " LENGTH 100", " WIDTH 10",
                                  " LENGTH -1", " LENGTH 10 20"])
def test_set_bad_arguments(term: Term, args: str) -> None:
    assert term.command("SET" + args) == ["?ERR 02 INVALID PARAMETER"]


# --- line discipline and errors -----------------------------------------------------------


def test_echo_and_cr_only_line_endings(term: Term) -> None:
    assert term.type("SHOW") == "SHOW"
    assert term.type(" MODE\r").startswith(" MODE\rDAY/NIGHT MODE")
    assert term.type("\n") == ""  # the LF of a CR LF is ignored
    assert term.type("SHOW MODE\n").startswith("SHOW MODE\rDAY/NIGHT MODE")
    assert term.type("\r") == "\r" + PROMPT
    assert term.type("SHOW MOX\x08DE\r").startswith("SHOW MOX\b \bDE\rDAY/NIGHT")


def test_error_replies(term: Term) -> None:
    assert term.command("VER") == ["?ERR 01 UNKNOWN COMMAND"]
    assert term.command("SHOW") == ["?ERR 02 INVALID PARAMETER"]
    assert term.command("SHOW COFFEE") == ["?ERR 01 UNKNOWN COMMAND"]
    assert term.command("SHOW VERSION NOW") == ["?ERR 02 INVALID PARAMETER"]
    assert term.command("GET 200 2001") == ["?ERR 04 NOT IN PROGRAM MODE"]
    assert term.command("show version")[0] == "SYSTEM  : STRATA CTX670"


def test_128_characters_is_the_longest_line(term: Term) -> None:
    assert term.command("X" * 128) == ["?ERR 01 UNKNOWN COMMAND"]
    assert term.command("X" * 129) == ["?ERR 05 LINE TOO LONG"]


def test_logout(healthy: PbxState) -> None:
    t = Term(healthy)
    t.command("PGM", PGM_PROMPT)
    assert t.type("LOGOUT\rSHOW TIME\r") == "LOGOUT\rGOODBYE\r"
    assert t.session.closed and healthy.programming_holder is None


def test_a_dead_pbx_says_nothing(healthy: PbxState) -> None:
    live = Term(healthy)
    healthy.inject_fault("processor_failure")
    dead = Term(healthy)
    assert dead.banner == "" and dead.session.closed
    assert live.type("SHOW TIME\r") == "" and live.session.closed
    healthy.clear_fault("processor_failure")
    assert Term(healthy).banner.endswith(PROMPT)
    assert healthy.error_log()[-1].code == 2


# --- programming --------------------------------------------------------------------------


@pytest.fixture
def pgm(term: Term) -> Term:
    assert term.command("PGM", PGM_PROMPT) == ["PROGRAM MODE"]
    return term


def test_the_doc_example(healthy: PbxState) -> None:
    doc = doc_block("STRATA-CTX670# PGM")
    t = Term(healthy)
    for line in ("PGM", "GET 200 2001", "PUT 106 NIGHT MANUAL", "END"):
        t.session.feed(line.encode() + b"\r")
    assert PROMPT + t.take() == "\r".join(doc).replace("␠", " ")


def test_program_round_trips(healthy: PbxState, pgm: Term) -> None:
    cases = [
        ("200 2002", '"Goods Office"', '"Goods Office"'),
        ("200 2014", "Spare", '"Spare"'),
        ("106", "day2 auto", "DAY2 AUTO"),
        ("112", "07:30", "07:30"),
        ("113", "17:45", "17:45"),
        ("121", "on", "ON"),
        ("210 2003", "01134960000", "01134960000"),
        ("210 2003", "none", "NONE"),
        ("300 2", "OUT-SVC", "OUT-SVC"),
        ("300 T002", "IN-SVC", "IN-SVC"),
        ("920 3", "192.0.2.10", "192.0.2.10"),
        ("102", "12/01/26 08:00:00", "12/01/26 08:00:00"),
    ]
    for key, value, read_back in cases:
        assert pgm.command(f"PUT {key} {value}", PGM_PROMPT) == ["COMPLETED"]
        number, *args = key.split()
        shown = {"300": lambda a: f"{int(a.removeprefix('T')):03d}",
                 "920": lambda a: f"{int(a):02d}"}.get(number, lambda a: a)
        assert pgm.command(f"GET {key}", PGM_PROMPT) == [
            " ".join([number, *map(shown, args)]) + f" : {read_back}"]
    assert healthy.extension("2002").name == "Goods Office"
    assert healthy.co_line(2).status is Status.INS


def test_pin_is_write_only(healthy: PbxState, pgm: Term) -> None:
    assert pgm.command("PUT 201 2001 4455", PGM_PROMPT) == ["COMPLETED"]
    assert healthy.extension("2001").pin == "4455"
    assert pgm.command("GET 201 2001", PGM_PROMPT) == ["201 2001 : ****"]
    assert "4455" not in "".join(pgm.command("LIST", PGM_PROMPT))


@pytest.mark.parametrize("command", [
    "PUT 100 0103 RCOS", "PUT 201 2001 12", "PUT 200 9999 Nobody", "PUT 106 NIGHT",
    "PUT 106 DUSK AUTO", "PUT 300 099 IN-SVC", "PUT 300 001 DOWN", "PUT 112 25:00",
    "PUT 121 MAYBE", "PUT 920 12 192.0.2.1", "PUT 920 01 999.1.1.1", "PUT 919 NOW",
    "PUT 102 2026-12-01", "PUT 555 1", "PUT 106", "PUT", "GET 100 0109", "GET 200",
    "GET", "LIST ALL", "END NOW",
])
def test_bad_programming_changes_nothing(pgm: Term, command: str) -> None:
    before = pgm.command("LIST", PGM_PROMPT)
    before = [line for line in before if not line.startswith("102 ")]
    reply = pgm.command(command, PGM_PROMPT)
    expected = "?ERR 06 READ ONLY PROGRAM" if command.startswith("PUT 100") else \
        "?ERR 02 INVALID PARAMETER"
    assert reply == [expected]
    after = [line for line in pgm.command("LIST", PGM_PROMPT) if not line.startswith("102 ")]
    assert after == before


def test_list_is_sorted(pgm: Term) -> None:
    lines = pgm.command("LIST", PGM_PROMPT)
    numbers = [line.split()[0] for line in lines]
    assert numbers == sorted(numbers)
    assert set(numbers) == {"100", "102", "106", "112", "113", "121", "200", "201", "210",
                            "300", "919", "920"}
    assert "100 0104 : RPTU" in lines and "919 : 4" in lines and "920 11 : NONE" in lines


def test_919_clears_the_alarm_buffer(healthy: PbxState, pgm: Term) -> None:
    healthy.inject_fault("dead_card", slot=3)
    assert pgm.command("GET 919", PGM_PROMPT) == ["919 : 5"]
    assert pgm.command("PUT 919 CLEAR", PGM_PROMPT) == ["COMPLETED"]
    assert pgm.command("GET 919", PGM_PROMPT) == ["919 : 1"]  # the active alarm stays
    assert len(pgm.command("SHOW ALARM", PGM_PROMPT)) == 2


def test_300_in_service_after_3330(healthy: PbxState, pgm: Term) -> None:
    healthy.inject_fault("trunk_busied_out", co=3)
    assert pgm.command("GET 300 003", PGM_PROMPT) == ["300 003 : OUT-SVC"]
    assert pgm.command("PUT 300 003 IN-SVC", PGM_PROMPT) == ["COMPLETED"]
    assert pgm.command("SHOW TRUNK", PGM_PROMPT)[3] == "T003 010303 LS   IN-SVC"


def test_the_lock_between_two_sessions(healthy: PbxState) -> None:
    first, second = Term(healthy), Term(healthy)
    assert first.command("PGM", PGM_PROMPT) == ["PROGRAM MODE"]
    assert second.command("PGM") == ["?ERR 03 PROGRAMMING IN USE"]
    first.session.close()  # the line dropped
    assert second.command("PGM", PGM_PROMPT) == ["PROGRAM MODE"]
    assert second.command("END") == ["PROGRAM MODE ENDED"]
    assert healthy.programming_holder is None
    locked = load_scenario("toshiba-programming-locked", host_clock=clock)
    assert Term(locked).command("PGM") == ["?ERR 03 PROGRAMMING IN USE"]


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_are_survived(data: bytes) -> None:
    pbx = load_scenario("toshiba-extension-card-failure", host_clock=clock)
    t = Term(pbx)
    t.type(data)  # ``take`` checks the output is 7-bit and CR-only
    if not t.session.closed:
        out = t.type("q\x15\r" + "\b" * 300 + "\r")
        assert out.endswith((PROMPT, PGM_PROMPT, PAGER_PROMPT.decode()))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([b"SHOW ALARM HISTORY", b"SHOW PCB", b"SET LENGTH 5",
                                 b"SHOW DN", b"PGM", b"LIST", b"\r", b"\n", b"\r\n", b" ", b"c",
                                 b"q", b"\x08", b"\xff", b"X" * 70]),
                max_size=30),
       st.data())
def test_output_does_not_depend_on_how_input_is_split(pieces: list[bytes],
                                                      data: st.DataObject) -> None:
    stream = b"".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    whole, split = Term(busy(30)), Term(busy(30))
    expected = whole.type(stream)
    got = "".join(split.type(stream[a:b]) for a, b in zip([0, *cuts], [*cuts, len(stream)],
                                                          strict=True))
    assert got == expected
