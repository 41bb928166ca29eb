"""The emulated Hayes modem, driven with AT commands over its pty."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import serial

from simulators import PbxState
from simulators.lines import HayesModem, LineConditions, PhoneBook, serve_modem

from .conftest import PASSWORD, PROMPT, Reader, open_port, port_reader

SITE, BUSY, NO_TONE, NOBODY, SLOW = "599", "600", "601", "602", "603"
GUARD = 0.2  # S12=10: a fifth of a second, so tests stay quick


@dataclass
class Line:
    port: serial.Serial
    reader: Reader
    modem: HayesModem

    def at(self, command: str, result: bytes = b"OK\r\n", timeout: float = 10.0) -> bytes:
        self.port.write(command.encode() + b"\r")
        return self.reader.until(result, timeout)

    def silence(self) -> None:
        """The guard time before ``+++``: a wait the protocol itself demands."""
        threading.Event().wait(GUARD * 1.2)


@pytest.fixture
def book(pbx: PbxState) -> PhoneBook:
    book = PhoneBook()
    book.add_site(SITE, pbx, password=PASSWORD)
    book.add_site(SLOW, pbx, password=PASSWORD, conditions=LineConditions(baud=2400))
    book.busy(BUSY)
    book.no_dialtone(NO_TONE)
    book.no_answer(NOBODY)
    return book


@pytest.fixture
def line(book: PhoneBook) -> Iterator[Line]:
    with serve_modem(book) as (device, modem), open_port(device) as port:
        line = Line(port, port_reader(port), modem)
        line.at(f"ATZ S7=1 S12={int(GUARD * 50)}")
        yield line


def test_echo_verbose_numeric_and_quiet(line: Line) -> None:
    assert line.at("ATE1") == b"ATE1\r\r\nOK\r\n"
    assert line.at("ATE0") == b"ATE0\r\r\nOK\r\n"  # E0 takes effect after this line
    assert line.at("AT") == b"\r\nOK\r\n"
    assert line.at("ATV0", b"0\r") == b"0\r"
    assert line.at("ATQ1V1", b"") == b""
    assert line.reader.quiet_for(0.1) == b""
    assert line.at("ATQ0") == b"\r\nOK\r\n"


def test_s_registers_set_and_query(line: Line) -> None:
    line.at("ATE0")
    assert line.at("ATS0=2 S7=45 S0? S7?") == b"\r\n002\r\n\r\n045\r\n\r\nOK\r\n"
    assert line.modem.register(7) == 45
    assert line.at("ATS7=256", b"ERROR\r\n").endswith(b"ERROR\r\n")
    assert line.at("ATS300=1", b"ERROR\r\n").endswith(b"ERROR\r\n")
    assert line.at("ATK", b"ERROR\r\n").endswith(b"ERROR\r\n")
    assert line.at("ATX5", b"ERROR\r\n").endswith(b"ERROR\r\n")


def test_text_before_the_attention_sequence_is_discarded(line: Line) -> None:
    line.at("ATE0")
    line.port.write(b"noise+++ATH0\r")
    assert line.reader.until(b"OK\r\n") == b"\r\nOK\r\n"
    line.port.write(b"hello\r")  # no AT: no result code at all
    assert line.reader.quiet_for(0.1) == b""


@pytest.mark.parametrize(("number", "verbose", "numeric"), [
    (BUSY, b"BUSY", b"7"), (NO_TONE, b"NO DIALTONE", b"6"), (NOBODY, b"NO ANSWER", b"8"),
    ("0800", b"NO ANSWER", b"8"),  # not in the phone book: rings out
])
def test_dial_failures_give_their_result_codes(line: Line, number: str, verbose: bytes,
                                               numeric: bytes) -> None:
    line.at("ATE0")
    assert line.at(f"ATDT{number}", verbose + b"\r\n") == b"\r\n" + verbose + b"\r\n"
    assert line.modem.wait_on_hook(5)
    assert line.at(f"ATV0DT{number}", numeric + b"\r") == numeric + b"\r"
    assert line.modem.event_kinds() == ["off-hook", "on-hook"] * 2


@pytest.mark.parametrize(("x_level", "number", "result"), [
    (0, BUSY, b"NO CARRIER"), (1, NO_TONE, b"NO CARRIER"), (2, NO_TONE, b"NO DIALTONE"),
    (3, BUSY, b"BUSY"), (3, NOBODY, b"NO CARRIER"), (0, SITE, b"CONNECT\r\n"),
])
def test_x_levels_decide_which_results_exist(line: Line, x_level: int, number: str,
                                             result: bytes) -> None:
    line.at(f"ATE0X{x_level}")
    assert line.at(f"ATD{number}", result).endswith(result)


def test_connect_reports_the_line_speed(line: Line) -> None:
    line.at("ATE0")
    assert line.at(f"ATDT{SLOW}", b"Login: ").startswith(b"\r\nCONNECT 2400\r\nPanasonic")
    line.port.close()
    assert line.modem.wait_on_hook(5)
    line.port.open()
    line.at("ATV0", b"0\r")
    assert line.at(f"ATDT{SLOW}", b"Login: ").startswith(b"10\rPanasonic")


def test_escape_online_command_mode_and_hang_up(line: Line) -> None:
    line.at("ATE0")
    line.at(f"ATDT{SITE}", b"Login: ")
    assert json.loads(line.modem.status_path.read_text())["dcd"] is True
    line.port.write(b"INSTALLER\r")
    line.reader.until(b"Password: ")
    line.silence()
    line.port.write(b"+++")
    assert line.reader.until(b"OK\r\n").endswith(b"\r\nOK\r\n")
    assert line.modem.off_hook and line.modem.mode == "online-command"
    assert line.at("ATO", b"CONNECT 9600\r\n")
    line.silence()
    line.port.write(b"+++")
    line.reader.until(b"OK\r\n")
    line.at("ATH0")
    assert not line.modem.off_hook
    status = json.loads(line.modem.status_path.read_text())
    assert status == {"dcd": False, "off_hook": False, "mode": "command"}
    assert line.modem.event_kinds() == ["off-hook", "connect", "escape", "escape", "on-hook"]
    assert line.modem.events[-1].detail == "ATH0"


def test_plus_signs_without_the_guard_time_are_data(line: Line) -> None:
    line.at("ATE0")
    line.at(f"ATDT{SITE}", b"Login: ")
    line.port.write(b"x+++")  # no silence before: not an escape
    assert line.reader.until(b"x+++") == b"x+++"  # the PBX echoes them
    assert line.reader.quiet_for(GUARD * 2) == b""
    assert line.modem.mode == "online"


def test_closing_the_port_is_a_hang_up(line: Line) -> None:
    line.at(f"ATDT{SITE}", b"Login: ")
    line.port.close()
    assert line.modem.wait_on_hook(5)
    assert line.modem.events[-1].detail == "DTR dropped (port closed)"


def test_a_keystroke_aborts_the_dial(line: Line) -> None:
    line.at("ATE0S7=30")
    line.port.write(b"ATDT0800\r")
    assert line.modem.wait_for("off-hook", 5)
    line.port.write(b"\r")
    assert line.reader.until(b"NO CARRIER\r\n") == b"\r\nNO CARRIER\r\n"
    assert not line.modem.off_hook


def test_the_pbx_ending_the_session_drops_the_call(line: Line) -> None:
    line.at("ATE0")
    line.at(f"ATDT{SITE}", b"Login: ")
    line.port.write(f"INSTALLER\r{PASSWORD}\r".encode())
    line.reader.until(PROMPT)
    line.port.write(b"EXIT\r")
    assert line.reader.until(b"NO CARRIER\r\n").endswith(b"BYE\r\n\r\nNO CARRIER\r\n")
    assert line.modem.wait_on_hook(5)
    assert line.modem.events[-1].detail == "the PBX hung up"


def test_carrier_loss_mid_call(pbx: PbxState) -> None:
    book = PhoneBook()
    book.add_site(SITE, pbx, password=PASSWORD, conditions=LineConditions(drop_after_bytes=30))
    with serve_modem(book) as (device, modem), open_port(device) as port:
        reader = port_reader(port)
        port.write(f"ATE0DT{SITE}\r".encode())
        got = reader.until(b"NO CARRIER\r\n")
        assert got.endswith(b"\r\nPanasonic KX-TDE200 Maintenanc\r\nNO CARRIER\r\n")  # 30 bytes
        assert modem.wait_on_hook(5)
        assert modem.events[-1].detail == "carrier lost"
        assert json.loads(modem.status_path.read_text())["dcd"] is False


def test_a_dead_pbx_does_not_answer(pbx: PbxState, line: Line) -> None:
    pbx.set_responding(False)
    line.at("ATE0")
    assert line.at(f"ATDT{SITE}", b"NO ANSWER\r\n") == b"\r\nNO ANSWER\r\n"
    assert line.modem.wait_on_hook(5)


def test_a_counted_override_then_the_site_answers(book: PhoneBook, line: Line) -> None:
    book.busy(SITE, times=1)
    line.at("ATE0")
    line.at(f"ATDT{SITE}", b"BUSY\r\n")
    assert line.at(f"ATDT{SITE}", b"Login: ").startswith(b"\r\nCONNECT 9600\r\n")
    assert book.dialled == [SITE, SITE]


def test_incoming_call_auto_answers_after_s0_rings(line: Line) -> None:
    line.at("ATE0S0=2")
    line.modem.ring(SITE, interval=0.05)
    assert line.reader.until(b"Login: ").startswith(
        b"\r\nRING\r\n\r\nRING\r\n\r\nCONNECT 9600\r\n")
    assert "auto-answer after 2 rings" in line.modem.events[0].detail


def test_incoming_call_answered_with_ata(line: Line) -> None:
    line.at("ATE0")
    line.modem.ring(SITE, interval=5.0)
    line.reader.until(b"RING\r\n")
    assert line.at("ATA", b"Login: ").startswith(b"\r\nCONNECT 9600\r\n")
    assert line.at("ATA", b"Password: ")  # online: ATA is just data for the PBX now


def test_a_modem_bank_shares_one_phone_book(book: PhoneBook) -> None:
    with serve_modem(book) as (first, _), serve_modem(book) as (second, _), \
            open_port(first) as a, open_port(second) as b:
        a.write(f"ATE0DT{SITE}\r".encode())
        b.write(f"ATE0DT{SITE}\r".encode())
        assert port_reader(a).until(b"Login: ").endswith(b"Login: ")
        assert port_reader(b).until(b"Login: ").endswith(b"Login: ")
