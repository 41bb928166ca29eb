"""The Panasonic console session, fed bytes directly and checked against the dialect doc.

Expected lines are taken from docs/dialects/panasonic.md itself wherever the document
gives an example, so the simulator and the document cannot drift apart silently.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators import Level, PanasonicSession, PbxState, SystemIdentity, load_scenario
from simulators.panasonic.console import PAGER_ERASE, PAGER_PROMPT

DOC = Path(__file__).resolve().parents[2] / "docs" / "dialects" / "panasonic.md"
NOW = datetime(2026, 11, 27, 15, 48, 13)  # the doc's DATE example: a Friday
PROMPT = "KX-TDE200> "
PRG_PROMPT = "KX-TDE200(PRG)> "
BANNER = "\r\nPanasonic KX-TDE200 Maintenance Console\r\nCopyright (C) Panasonic\r\n\r\n"


def doc_blocks() -> list[list[str]]:
    """Every fenced block of the dialect doc, as lines with the literal ``\\r\\n`` removed."""
    blocks = re.findall(r"```\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [[line.removesuffix("\\r\\n") for line in b.splitlines()] for b in blocks]


def doc_block(first_line: str) -> list[str]:
    """The doc's example block that starts with ``first_line``."""
    return next(b for b in doc_blocks() if b and b[0] == first_line)


def fixed_clock() -> datetime:
    return NOW


class Term:
    """A session plus what it sent; ``type`` returns the output of one ``feed``."""

    def __init__(self, pbx: PbxState, *, login_required: bool = False) -> None:
        self.sent: list[bytes] = []
        self.session = PanasonicSession(pbx, login_required=login_required,
                                        send=self.sent.append, password="1234")
        self.session.start()
        self.banner = self.take()

    def take(self) -> str:
        out = b"".join(self.sent)
        self.sent.clear()
        assert all(byte < 0x80 for byte in out), "the PBX never sends 8-bit bytes"
        return out.decode("ascii")

    def type(self, data: bytes | str) -> str:
        self.session.feed(data.encode("ascii") if isinstance(data, str) else data)
        return self.take()

    def command(self, line: str) -> list[str]:
        """Run one command with paging off; return its output lines (echo and prompt checked)."""
        out = self.type(line + "\r")
        assert out.startswith(line + "\r\n")
        assert out.endswith(PROMPT)
        body = out[len(line) + 2:-len(PROMPT)]
        assert body == "" or body.endswith("\r\n")
        return body.split("\r\n")[:-1]


@pytest.fixture
def healthy() -> PbxState:
    return load_scenario("panasonic-healthy", host_clock=fixed_clock)


@pytest.fixture
def dead_trunk() -> PbxState:
    return load_scenario("panasonic-dead-trunk-card", host_clock=fixed_clock)


@pytest.fixture
def term(healthy: PbxState) -> Term:
    t = Term(healthy)
    assert t.command("PAGE OFF") == ["OK"]
    return t


# --- session start --------------------------------------------------------------------------


def test_ssh_banner_and_prompt(healthy: PbxState) -> None:
    t = Term(healthy)
    assert t.banner == BANNER + PROMPT
    assert re.search(r"^KX-[A-Z0-9]+> $", t.banner, re.M)


def test_login_dialogue(healthy: PbxState) -> None:
    t = Term(healthy, login_required=True)
    assert t.banner == "Panasonic KX-TDE200 Maintenance Console\r\nLogin: "
    assert t.type("INSTALLER\r") == "INSTALLER\r\nPassword: "
    assert t.type("1234\r") == "\r\n" + PROMPT  # the password is not echoed
    assert t.command("VER")[0] == "System Model   : KX-TDE200"


def test_third_failed_login_closes_the_line(healthy: PbxState) -> None:
    t = Term(healthy, login_required=True)
    for attempt in range(3):
        assert t.type("INSTALLER\r") == "INSTALLER\r\nPassword: "
        out = t.type("wrong\r")
        assert out.startswith("\r\nLOGIN INCORRECT\r\n")
        assert out.endswith("Login: ") == (attempt < 2)
    assert t.session.closed
    assert t.type("VER\r") == ""


def test_login_survives_crlf_and_a_wrong_user(healthy: PbxState) -> None:
    t = Term(healthy, login_required=True)
    t.type("admin\r\n")
    assert t.type("1234\r\n") == "\r\nLOGIN INCORRECT\r\nLogin: "
    t.type("INSTALLER\r\n")
    assert t.type("1234\r\n").endswith(PROMPT)


# --- commands, checked against the doc --------------------------------------------------------


def test_ver_is_the_doc_block(term: Term) -> None:
    lines = term.command("VER")
    assert lines == ["System Model   : KX-TDE200", "PMPR Software File Version 5.0000"]
    assert lines == doc_block("System Model   : KX-TDE200")


def test_card_lines_match_the_doc(term: Term, dead_trunk: PbxState) -> None:
    doc = doc_block("CAB SLT CARD     MODEL        FIRMWARE STATUS")
    healthy = term.command("CARD")
    assert healthy[:3] == doc[:3]
    assert healthy[4] == doc[3].replace("FLT", "INS")
    dead = Term(dead_trunk)
    dead.command("PAGE OFF")
    assert dead.command("CARD")[4] == doc[3]


def test_co_lines_match_the_doc(healthy: PbxState, term: Term) -> None:
    doc = doc_block("CO  CAB SLT PRT KIND STATUS")
    assert term.command("CO")[:2] == [doc[0], doc[1].replace("OUS", "INS")]
    healthy.inject_fault("trunk_busied_out", co=1)
    lines = term.command("CO")
    assert lines[:2] == doc
    assert all(line.endswith("INS") for line in lines[2:])


def test_dead_card_takes_its_co_lines_down(dead_trunk: PbxState) -> None:
    t = Term(dead_trunk)
    lines = t.command("CO")
    assert len(lines) == 9
    assert all(line.endswith(" LCOT FLT") for line in lines[1:])


def test_ext_lines_match_the_doc(term: Term) -> None:
    doc = doc_block("EXT   CAB SLT PRT TYPE NAME             STATUS")
    lines = term.command("EXT")
    assert lines[:2] == doc
    assert len(lines) == 1 + 24
    assert "214     1  01  14 DPT                   IDLE" in lines  # unnamed: 16 blanks
    assert "217     1  02  01 SLT  Fax              IDLE" in lines


def test_mode_and_date_match_the_doc(healthy: PbxState, term: Term) -> None:
    assert term.command("MODE") == doc_block("TIME SERVICE : DAY")
    assert term.command("DATE") == doc_block("DATE : 27/11/26 FRI 15:48:13")
    healthy.inject_fault("stuck_night_mode")
    assert term.command("MODE") == ["TIME SERVICE : NIGHT", "SWITCHING    : MANUAL"]


def test_alm_on_a_healthy_site(term: Term) -> None:
    assert term.command("ALM") == ["NO ALARM"]


def test_alm_and_err_on_the_dead_trunk_card(dead_trunk: PbxState) -> None:
    t = Term(dead_trunk)
    alarm = "27/11/26 15:48    MJ ALM #230 00 10300 Card disconnected"
    assert t.command("ALM") == [alarm]
    history = t.command("ERR")
    assert history[-1] == alarm
    assert "MN ALM #330 00 10305 Loop current detection error" in history[1]


def test_err_line_is_the_published_smdr_format() -> None:
    pbx = PbxState(SystemIdentity("Panasonic", "KX-TDE200", "PMPR Software File Version 5.0000"),
                   host_clock=fixed_clock)
    t = Term(pbx)
    assert t.command("ERR") == ["NO ERROR LOG"]
    pbx.set_clock(datetime(2011, 1, 6, 14, 44, 59))
    pbx.inject_fault("smdr_disconnect")
    published = "06/01/11 14:44    MN ALM #510 00 10000 SMDR disconnect"
    assert published in doc_block("DD/MM/YY HH:MM    LL ALM #CCC 00 XYYZZ message")
    assert t.command("ERR") == [published]


def test_alm_is_major_first_then_newest_first(healthy: PbxState, term: Term) -> None:
    healthy.inject_fault("trunk_busied_out", co=2)
    healthy.set_clock(datetime(2026, 11, 27, 16, 0))
    healthy.inject_fault("dead_card", slot=1)
    healthy.set_clock(datetime(2026, 11, 27, 16, 30))
    healthy.inject_fault("trunk_busied_out", co=5)
    codes = [line[18:41] for line in term.command("ALM")]
    assert codes == ["MJ ALM #230 00 10100 Ca", "MN ALM #330 00 10305 Lo",
                     "MN ALM #330 00 10302 Lo"]


def test_faults_injected_and_cleared_between_commands(healthy: PbxState, term: Term) -> None:
    healthy.inject_fault("dead_card", slot=3)
    assert term.command("ALM")[0].endswith("MJ ALM #230 00 10300 Card disconnected")
    healthy.clear_fault("dead_card", slot=3)
    assert term.command("ALM") == ["NO ALARM"]
    assert term.command("CARD")[4].endswith("INS")


# --- paging -------------------------------------------------------------------------------


def busy_log(count: int) -> PbxState:
    pbx = PbxState(SystemIdentity("Panasonic", "KX-TDE200", "PMPR Software File Version 5.0000"),
                   host_clock=fixed_clock)
    for i in range(count):
        pbx.log_error(Level.MN, 510, "10000", "SMDR disconnect",
                      when=datetime(2026, 11, 1) + timedelta(minutes=i))
    return pbx


def test_paging_is_on_at_login_with_20_lines() -> None:
    t = Term(busy_log(30))
    out = t.type("ERR\r")
    assert out.endswith("\r\n" + PAGER_PROMPT.decode())
    assert out.count("\r\n") == 1 + 20
    out = t.type(" ")
    assert out.startswith(PAGER_ERASE.decode())
    assert out.count("\r\n") == 10
    assert out.endswith("00:29    MN ALM #510 00 10000 SMDR disconnect\r\n" + PROMPT)


def test_pager_cr_lf_turns_one_page_only() -> None:
    t = Term(busy_log(45))
    t.type("ERR\r")
    out = t.type("\r\n")
    assert out.count("\r\n") == 20
    assert out.endswith(PAGER_PROMPT.decode())
    assert t.type("\n").endswith(PROMPT)


def test_pager_q_quits_to_the_prompt() -> None:
    t = Term(busy_log(30))
    t.type("ERR\r")
    assert t.type("Q") == PAGER_ERASE.decode() + PROMPT
    assert t.command("PAGE OFF") == ["OK"]


def test_pager_ignores_other_keys() -> None:
    t = Term(busy_log(30))
    t.type("ERR\r")
    assert t.type(b"x\x1b\xff") == ""


@pytest.mark.parametrize("setting", ["5", "05", "99"])
def test_page_n(setting: str) -> None:
    t = Term(busy_log(120))
    assert t.type(f"PAGE {setting}\r").endswith("OK\r\n" + PROMPT)
    assert t.type("ERR\r").count("\r\n") == 1 + int(setting)


def test_page_off_and_on() -> None:
    t = Term(busy_log(30))
    t.command("PAGE 7")
    assert len(t.command("page off")) == 1
    assert len(t.command("ERR")) == 30
    assert t.type("PAGE ON\r").endswith(PROMPT)
    assert t.type("ERR\r").count("\r\n") == 1 + 7


@pytest.mark.parametrize("args", ["", " 4", " 100", " ALL", " 5 6", " -5"])
def test_page_bad_arguments(term: Term, args: str) -> None:
    assert term.command("PAGE" + args) == ["ERROR 02: INVALID PARAMETER"]


# --- line discipline ----------------------------------------------------------------------


def test_echo_and_line_endings(term: Term) -> None:
    assert term.type("V") == "V"
    assert term.type("E") == "E"
    assert term.type("R\r").startswith("R\r\nSystem Model")
    assert term.type("\n") == ""  # the LF of a CR LF is ignored
    assert term.type("VER\n").startswith("VER\r\nSystem Model")  # a bare LF ends a line
    assert term.type("\r") == "\r\n" + PROMPT


def test_crlf_across_feeds_gives_one_prompt(term: Term) -> None:
    term.type("MODE\r")
    assert term.type("\nMODE\r\n").count(PROMPT) == 1


@pytest.mark.parametrize("erase", [b"\x08", b"\x7f"])
def test_backspace_erases(term: Term, erase: bytes) -> None:
    out = term.type(b"VEX" + erase + b"R\r")
    assert out.startswith("VEX\b \bR\r\nSystem Model")
    assert term.type(erase * 3) == ""  # nothing left to erase: nothing echoed


def test_commands_are_case_insensitive_with_any_spacing(term: Term) -> None:
    assert term.command("  ver  ") == term.command("VER")
    assert term.command("page    off") == ["OK"]


def test_error_replies(term: Term) -> None:
    assert term.command("FOO") == ["ERROR 01: UNKNOWN COMMAND"]
    assert term.command("VER NOW") == ["ERROR 02: INVALID PARAMETER"]
    assert term.command("READ 004 201") == ["ERROR 04: NOT IN PROGRAMMING MODE"]


def test_256_characters_is_the_longest_line(term: Term) -> None:
    assert term.command("X" * 256) == ["ERROR 01: UNKNOWN COMMAND"]
    assert term.command("X" * 257) == ["ERROR 02: LINE TOO LONG"]
    assert term.command("VER " + " " * 300) == ["ERROR 02: LINE TOO LONG"]


def test_backspace_back_under_the_limit(term: Term) -> None:
    out = term.type("VER" + " " * 300 + "\b" * 300 + "\r")
    assert "System Model" in out


def test_noise_is_ignored(term: Term) -> None:
    out = term.type(b"\x00V\xff\x01E\x1b\x80R\t\r")
    assert out.startswith("VER\r\nSystem Model")


def test_exit_says_bye_and_closes(healthy: PbxState) -> None:
    t = Term(healthy)
    assert healthy.acquire_programming(t.session)
    assert t.type("EXIT\rVER\r") == "EXIT\r\nBYE\r\n"
    assert t.session.closed
    assert healthy.programming_holder is None
    assert t.type("VER\r") == ""


def test_close_releases_the_programming_lock(healthy: PbxState) -> None:
    t = Term(healthy)
    assert healthy.acquire_programming(t.session)
    t.session.close()
    assert healthy.programming_holder is None


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_are_survived(data: bytes) -> None:
    pbx = load_scenario("panasonic-dead-trunk-card", host_clock=fixed_clock)
    t = Term(pbx)
    t.type(data)  # ``take`` checks the output is 7-bit
    if not t.session.closed:
        out = t.type("q\x15\r" + "\b" * 300 + "\r")
        assert out.endswith((PROMPT, PRG_PROMPT, PAGER_PROMPT.decode()))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([b"VER", b"ALM", b"ERR", b"PAGE 5", b"EXT", b"CO", b"\r",
                                 b"\n", b"\r\n", b" ", b"q", b"\x08", b"\xff", b"X" * 90]),
                max_size=30),
       st.data())
def test_output_does_not_depend_on_how_input_is_split(pieces: list[bytes],
                                                      data: st.DataObject) -> None:
    stream = b"".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    whole, split = Term(busy_log(12)), Term(busy_log(12))
    expected = whole.type(stream)
    got = "".join(split.type(stream[a:b]) for a, b in zip([0, *cuts], [*cuts, len(stream)],
                                                          strict=True))
    assert got == expected
