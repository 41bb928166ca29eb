"""The modem line: every result code typed, redial with back-off, carrier watched, and the
modem always back on-hook — whatever ends the session."""

from __future__ import annotations

import _thread
import os
import threading
import time
from pathlib import Path

import pytest

from agent.errors import (
    ConnectFailed,
    LineBusy,
    LineDropped,
    NoAnswer,
    NoCarrier,
    NoDialTone,
)
from agent.line.console import Console
from agent.line.transcript import Transcript
from agent.line.transports.modem import ModemTransport, ResultCode, ResultParser, parse_result
from drivers.panasonic import PanasonicDriver
from simulators import PbxState
from simulators.lines import LineConditions, ModemEndpoint, PhoneBook, serve_modem

from .conftest import CREDENTIALS, NUMBER, PASSWORD, line_for, modem_url, survey

NUMERIC_INIT = ["ATZ", "ATE0V0Q0X4S7=1S12=10"]


def test_result_codes_in_both_forms() -> None:
    assert parse_result("OK") == ResultCode("OK", raw="OK")
    assert parse_result("0") == ResultCode("OK", raw="0")
    assert parse_result("CONNECT 9600/ARQ") == ResultCode("CONNECT", 9600, "CONNECT 9600/ARQ")
    assert parse_result("12") == ResultCode("CONNECT", 9600, "12")
    assert parse_result("1") == ResultCode("CONNECT", None, "1")
    assert parse_result("NO DIAL TONE") == ResultCode("NO DIALTONE", raw="NO DIAL TONE")
    assert [parse_result(c).word for c in "234678"] == [  # type: ignore[union-attr]
        "RING", "NO CARRIER", "ERROR", "NO DIALTONE", "BUSY", "NO ANSWER"]
    assert parse_result("050") is None  # an S-register value, not a result
    assert parse_result("ATDT599") is None  # the command's echo
    assert parse_result("Login:") is None
    # a modem's ERROR with its reason is still ERROR, its words kept (issue 14 #7)
    assert parse_result("ERROR: invalid command") == ResultCode("ERROR",
                                                                raw="ERROR: invalid command")
    assert parse_result("ERRORS 3") is None


def test_parser_finds_results_across_split_reads() -> None:
    stream = b"ATE0\r\r\nOK\r\n\r\n050\r\n\r\nCONNECT 2400\r\nPanasonic"
    for cut in range(len(stream) + 1):
        parser = ResultParser()
        parser.feed(stream[:cut])
        found = [parser.next_result()]
        parser.feed(stream[cut:])
        found += [parser.next_result(), parser.next_result()]
        words = [r.word for r in found if r is not None]
        assert words == ["OK", "CONNECT"], cut
        assert parser.rest() == b"Panasonic"


FAILURES = [("busy", LineBusy, "BUSY"), ("no_answer", NoAnswer, "NO ANSWER"),
            ("no_dialtone", NoDialTone, "NO DIALTONE")]


@pytest.mark.parametrize("numeric", [False, True], ids=["verbose", "numeric"])
@pytest.mark.parametrize(("tell", "error", "word"), FAILURES)
def test_each_dial_failure_is_its_typed_error(book: PhoneBook, modem: ModemEndpoint, tell: str,
                                              error: type[ConnectFailed], word: str,
                                              numeric: bool) -> None:
    getattr(book, tell)(NUMBER)
    url = modem_url(modem, retries=0, init=NUMERIC_INIT if numeric else None)
    with pytest.raises(error, match=f"{word} \\(after 1 attempt\\)"):
        line_for(url).open()
    assert modem.modem.wait_on_hook(5)
    assert modem.modem.events[-1].detail == f"dial failed: {word}"


def test_no_carrier_and_error_results(modem: ModemEndpoint) -> None:
    # X3: no dial-tone detection, so a number that rings out ends in NO CARRIER.
    with pytest.raises(NoCarrier, match="NO CARRIER"):
        line_for(modem_url(modem, number="0800", retries=0,
                           init=["ATZ", "ATE0X3S7=1S12=10"])).open()
    with pytest.raises(ConnectFailed, match="ERROR") as caught:
        line_for(modem_url(modem, number="PBX")).open()  # no digits: the modem says ERROR
    assert type(caught.value) is ConnectFailed
    with pytest.raises(ConnectFailed, match="answered ERROR to 'ATK'"):
        line_for(modem_url(modem, init=["ATK"])).open()
    assert modem.modem.wait_on_hook(5)


def test_redial_with_back_off_then_connect(book: PhoneBook, modem: ModemEndpoint,
                                           pbx: PbxState) -> None:
    book.busy(NUMBER, times=2)
    with line_for(modem_url(modem, retries=3)) as line:
        assert isinstance(line, ModemTransport)
        assert line.attempts == 3 and line.connect_speed == 9600
    assert book.dialled == [NUMBER] * 3
    assert modem.modem.event_kinds().count("off-hook") == 3


def test_retries_run_out(book: PhoneBook, modem: ModemEndpoint) -> None:
    book.busy(NUMBER)
    with pytest.raises(LineBusy, match="after 3 attempts"):
        line_for(modem_url(modem, retries=2)).open()
    assert book.dialled == [NUMBER] * 3


def test_cancel_interrupts_the_back_off(book: PhoneBook, modem: ModemEndpoint) -> None:
    book.busy(NUMBER)
    line = line_for(modem_url(modem, retries=5, backoff=30))
    assert isinstance(line, ModemTransport)

    def cancel_after_first_dial() -> None:
        assert modem.modem.wait_for("on-hook", 10)
        line.cancel()

    threading.Thread(target=cancel_after_first_dial, daemon=True).start()
    start = time.monotonic()
    with pytest.raises(ConnectFailed, match="cancelled"):
        line.open()
    assert time.monotonic() - start < 10
    assert modem.modem.wait_on_hook(5)


def assert_hung_up_with_ath0(endpoint: ModemEndpoint) -> None:
    assert endpoint.modem.wait_on_hook(5), "the modem was left off-hook"
    kinds = endpoint.modem.event_kinds()
    assert kinds[-2:] == ["escape", "on-hook"], kinds
    assert endpoint.modem.events[-1].detail == "ATH0"


def test_close_escapes_and_hangs_up(modem: ModemEndpoint) -> None:
    line = line_for(modem_url(modem))
    line.open()
    Console(line, PanasonicDriver.dialect, timeout=5).wait_for([r"Login: \Z"])
    line.close()
    assert_hung_up_with_ath0(modem)
    line.close()  # twice is fine


def test_an_exception_mid_session_still_hangs_up(modem: ModemEndpoint) -> None:
    with pytest.raises(RuntimeError), line_for(modem_url(modem)) as line:
        PanasonicDriver(Console(line, PanasonicDriver.dialect)).open_session(CREDENTIALS)
        raise RuntimeError("a bug in a playbook step")
    assert_hung_up_with_ath0(modem)


class Tripwire(Transcript):
    """Sets ``crossed`` once ``after`` bytes have come in (it records as usual)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.count = 0
        self.crossed = threading.Event()

    def received(self, data: bytes) -> None:
        super().received(data)
        self.count += len(data)
        if self.count >= self.after:
            self.crossed.set()


def test_ctrl_c_mid_command_still_hangs_up(pbx: PbxState, tmp_path: Path) -> None:
    book = PhoneBook()
    book.add_site(NUMBER, pbx, password=PASSWORD, conditions=LineConditions(baud=2400))
    with serve_modem(book, state_dir=tmp_path) as endpoint:
        tripwire = Tripwire(after=400)  # login is ~150 bytes: this is inside EXT's reply
        done = threading.Event()

        def press_ctrl_c() -> None:
            if tripwire.crossed.wait(30) and not done.is_set():
                _thread.interrupt_main()  # SIGINT's effect, delivered to the main thread

        threading.Thread(target=press_ctrl_c, daemon=True).start()
        try:
            with pytest.raises(KeyboardInterrupt), line_for(modem_url(endpoint)) as line:
                console = Console(line, PanasonicDriver.dialect, timeout=30,
                                  transcript=tripwire)
                driver = PanasonicDriver(console)
                driver.open_session(CREDENTIALS)
                driver.extensions()
        finally:
            done.set()
        assert tripwire.crossed.is_set()
        assert_hung_up_with_ath0(endpoint)


def test_carrier_lost_mid_command_is_line_dropped_and_on_hook(pbx: PbxState,
                                                              tmp_path: Path) -> None:
    book = PhoneBook()
    book.add_site(NUMBER, pbx, password=PASSWORD,
                  conditions=LineConditions(baud=9600, drop_after_bytes=400))
    with serve_modem(book, state_dir=tmp_path) as endpoint, \
            line_for(modem_url(endpoint)) as line:
        driver = PanasonicDriver(Console(line, PanasonicDriver.dialect, timeout=10))
        driver.open_session(CREDENTIALS)
        start = time.monotonic()
        with pytest.raises(LineDropped, match="NO CARRIER"):
            driver.extensions()
        assert time.monotonic() - start < 2.0  # the deadline was 10 s: noticed at once
        assert endpoint.modem.wait_on_hook(5)
        assert endpoint.modem.events[-1].detail == "carrier lost"
    assert endpoint.modem.wait_on_hook(5)


def test_numeric_results_and_dcd_from_the_status_file(modem: ModemEndpoint) -> None:
    with line_for(modem_url(modem, init=NUMERIC_INIT)) as line:
        assert isinstance(line, ModemTransport) and line.connect_speed == 9600
        console = Console(line, PanasonicDriver.dialect, timeout=10)
        console.wait_for([r"Login: \Z"])
        modem.modem.drop_carrier()  # in V0 the modem says only "3\r": DCD must tell
        start = time.monotonic()
        with pytest.raises(LineDropped, match="DCD dropped"):
            console.wait_for([r"never"], timeout=10)
        assert time.monotonic() - start < 2.0
    assert modem.modem.wait_on_hook(5)


def test_without_dcd_numeric_no_carrier_is_still_line_dropped(modem: ModemEndpoint) -> None:
    """Issue 14 #6: in V0 the modem's only word is ``3<CR>``; it used to be a timeout."""
    url = modem_url(modem, init=NUMERIC_INIT, command_timeout=0.5).replace(
        f"carrier_file={modem.modem.status_path}&", "")
    with line_for(url) as line:
        console = Console(line, PanasonicDriver.dialect, timeout=10)
        console.wait_for([r"Login: \Z"])
        modem.modem.drop_carrier()
        with pytest.raises(LineDropped, match=r"NO CARRIER \(result code 3\)"):
            console.wait_for([r"never"], timeout=10)
    assert modem.modem.wait_on_hook(5)


def test_a_pbx_line_that_ends_in_3_is_not_a_numeric_no_carrier() -> None:
    """Only ``3<CR>`` ending the stream (then silence) is the modem's word."""
    from agent.line.transports.modem import _NUMERIC_NO_CARRIER

    assert _NUMERIC_NO_CARRIER.search(b"Login: 3\r") is not None
    assert _NUMERIC_NO_CARRIER.search(b"\r\ntotal 3\r\n> ") is None
    assert _NUMERIC_NO_CARRIER.search(b"3\rnext line") is None  # more output followed
    assert _NUMERIC_NO_CARRIER.search(b"trunks 13\r") is None


def test_a_modem_that_ignores_plus_plus_plus_is_hung_up_by_closing_the_port(
        modem: ModemEndpoint) -> None:
    # The modem wants 1 s of silence (S12=50) but we only wait 0.1 s: +++ and ATH0 become
    # data for the PBX. Closing the port (DTR) is the last resort, and it works.
    url = modem_url(modem, guard=0.1, command_timeout=0.3, init=["ATZ", "ATE0S12=50"])
    with line_for(url) as line:
        Console(line, PanasonicDriver.dialect, timeout=5).wait_for([r"Login: \Z"])
    assert modem.modem.wait_on_hook(5)
    assert modem.modem.events[-1].detail == "DTR dropped (port closed)"


def test_a_dead_modem_is_connect_failed_quickly() -> None:
    master, slave = os.openpty()  # a port with nothing answering on it
    try:
        url = f"modem://{os.ttyname(slave)}?number=599&command_timeout=0.3"
        start = time.monotonic()
        with pytest.raises(ConnectFailed, match="no answer from the modem"):
            line_for(url).open()
        assert time.monotonic() - start < 3
    finally:
        os.close(master)
        os.close(slave)


def test_a_dial_without_any_result_is_aborted(modem: ModemEndpoint) -> None:
    url = modem_url(modem, number="0800", retries=0, dial_timeout=1,
                    init=["ATZ", "ATE0S7=30S12=10"])
    with pytest.raises(NoAnswer, match="no result from the modem within 1s"):
        line_for(url).open()
    assert modem.modem.wait_on_hook(5)
    assert modem.modem.events[-1].detail == "dial aborted by a keystroke"


def test_the_survey_over_a_modem_leaves_it_on_hook(pbx: PbxState, modem: ModemEndpoint) -> None:
    with line_for(modem_url(modem)) as line:
        assert survey(line).model == pbx.system.model
    assert modem.modem.wait_on_hook(5)


def test_with_numeric_codes_the_pbx_hang_up_ends_the_call_without_an_escape(
        pbx: PbxState, modem: ModemEndpoint) -> None:
    """Issue 14 #6: after the PBX's BYE a V0 modem says only ``3<CR>``; it used to cost
    the whole guard time, a ``+++`` and a command timeout. Now it is heard as the end."""
    with line_for(modem_url(modem, init=NUMERIC_INIT)) as line:
        assert survey(line).model == pbx.system.model
    assert modem.modem.wait_on_hook(5)
    kinds = modem.modem.event_kinds()
    assert "escape" not in kinds[kinds.index("connect"):], kinds


def test_the_path_line_time_bounds_every_redial(book: PhoneBook, modem: ModemEndpoint) -> None:
    """Ten redials allowed, but only 1.5 s of line time: the modem gives up when the next
    back-off would pass it, and says why (a dead PBX must not hold a run for minutes)."""
    book.busy(NUMBER)
    with pytest.raises(LineBusy, match="its line time is spent"):
        line_for(modem_url(modem, retries=10, backoff=1, line_time=1.5)).open()
    assert 1 <= len(book.dialled) <= 2  # not 11
    assert modem.modem.wait_on_hook(5)


def test_the_run_deadline_for_reaching_the_pbx_stops_the_redials(
        book: PhoneBook, modem: ModemEndpoint) -> None:
    book.busy(NUMBER)
    line = line_for(modem_url(modem, retries=10, backoff=1))
    line.reach_by = time.monotonic() + 1.5  # what the runner sets from reach_timeout
    with pytest.raises(LineBusy, match="its line time is spent"):
        line.open()
    assert 1 <= len(book.dialled) <= 2
