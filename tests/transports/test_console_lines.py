"""The console over real and scripted lines: VT100 cursor queries, bare-CR dialects,
undecodable bytes and line noise."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from agent.errors import CommandTimeout, LineDropped, ParseError
from agent.line.console import (
    CURSOR_REPLY,
    NOISY_PROMPT_QUIET,
    Console,
    ConsoleDialect,
    clean_output,
)
from agent.line.transports.base import Transport
from drivers.panasonic import PanasonicDriver
from simulators import PbxState
from simulators.lines import LineConditions, NoiseDirection, serve_telnet
from simulators.lines.session import login_session_maker
from simulators.ssh_server import ConsoleSession

from .conftest import CREDENTIALS, PASSWORD, expected_survey, line_for, survey

PANASONIC = PanasonicDriver.dialect
BARE_CR = ConsoleDialect(prompt=r"> ", pbx_line_ending=b"\r")


class Scripted(Transport):
    """A line that delivers pre-written chunks, one per read, and records writes; then
    silence (reads time out), or the line drops where the script says ``None``."""

    def __init__(self, chunks: list[bytes | None]) -> None:
        super().__init__()
        self.chunks = list(chunks)
        self.written = bytearray()

    @property
    def display_url(self) -> str:
        return "scripted://"

    def open(self) -> None:
        pass

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        if not self.chunks:
            threading.Event().wait(timeout)  # silence, as a quiet line would be
            return b""
        chunk = self.chunks.pop(0)
        if chunk is None:
            raise LineDropped("the script drops the line here")
        return chunk

    def _write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


# --- VT100 cursor position query -------------------------------------------------------


class AsksWhereTheCursorIs:
    """A console that asks ``ESC[6n`` and prints nothing until the terminal answers."""

    def __init__(self, inner: ConsoleSession, send: Callable[[bytes], None]) -> None:
        self.inner = inner
        self.send = send
        self.heard = b""

    @property
    def closed(self) -> bool:
        return self.inner.closed

    def start(self) -> None:
        self.send(b"\x1b[6n")

    def feed(self, data: bytes) -> None:
        if CURSOR_REPLY not in self.heard:
            self.heard += data
            if CURSOR_REPLY in self.heard:
                self.inner.start()
            return
        self.inner.feed(data)

    def close(self) -> None:
        self.inner.close()


def test_the_cursor_query_is_answered_over_a_real_line(pbx: PbxState) -> None:
    inner = login_session_maker(pbx, password=PASSWORD)

    def make(send: Callable[[bytes], None]) -> ConsoleSession:
        return AsksWhereTheCursorIs(inner(send), send)

    with serve_telnet(pbx, password=PASSWORD, session_maker=make) as endpoint, \
            line_for(endpoint.url) as line:
        assert survey(line) == expected_survey(pbx)


def test_a_cursor_query_split_across_reads_is_answered_once() -> None:
    line = Scripted([b"hello\x1b[", b"6nLogin: ", b"\x1b[6n", None])
    console = Console(line, PANASONIC, timeout=1)
    console.wait_for([r"Login: \Z"])
    assert bytes(line.written) == CURSOR_REPLY
    with pytest.raises(LineDropped):
        console.wait_for([r"never"])
    assert bytes(line.written) == CURSOR_REPLY * 2
    assert "\x1b" not in clean_output(str(console.before))


# --- line endings ----------------------------------------------------------------------


def test_bare_cr_dialect_lines() -> None:
    raw = "VER\rSystem\r\rVersion 1\r\nnext\r           \rlast\r"
    assert clean_output(raw, echo="VER", pbx_line_ending="\r") == (
        "System\n\nVersion 1\nnext\nlast")


def test_crlf_dialect_keeps_cr_as_a_carriage_return() -> None:
    assert clean_output("VER\r\nold\rnew\r\n", echo="VER") == "new"


def test_command_over_a_bare_cr_dialect() -> None:
    line = Scripted([b"STATUS\rslot 1 ", b"OK\rslot 2 OK\r> "])
    assert Console(line, BARE_CR, timeout=1).command("STATUS") == "slot 1 OK\nslot 2 OK"


# --- bytes a console must survive ------------------------------------------------------


def test_undecodable_bytes_never_break_the_console() -> None:
    garbage = bytes(range(128, 256))
    line = Scripted([b"VER\r\n" + garbage, b"PMPR \xc3\xa9Software\r\nKX-TDE200> "])
    assert Console(line, PANASONIC, timeout=1).command("VER") == "PMPR Software"
    raw = Scripted([b"VER\r\n\xc3\x28x\r\nKX-TDE200> "])
    unfiltered = ConsoleDialect(prompt=PANASONIC.prompt, filter_noise=False)
    assert Console(raw, unfiltered, timeout=1).command("VER") == "\ufffd(x"


def test_noise_inside_the_echo_and_the_prompt_is_tolerated() -> None:
    line = Scripted([b"V\x9bE~R\r\n", b"TIME SERVICE : DAY\r\nKX-TD\x00E2\xf100> "])
    assert Console(line, PANASONIC, timeout=1).command("VER") == "TIME SERVICE : DAY"


def test_a_prompt_with_a_stray_character_is_accepted_once_the_line_is_quiet() -> None:
    line = Scripted([b"VER\r\nSystem Model   : KX-TDE200\r\nKX-TDqE200> "])
    console = Console(line, PANASONIC, timeout=5)
    start = time.monotonic()
    assert console.command("VER") == "System Model   : KX-TDE200"
    assert NOISY_PROMPT_QUIET <= time.monotonic() - start < 2 * NOISY_PROMPT_QUIET + 0.5
    line.chunks.append(b"MODE\r\nTIME SERVICE : DAY\r\nKX-TDE200> ")
    assert console.command("MODE") == "TIME SERVICE : DAY"  # nothing left over


def test_no_prompt_at_all_is_still_a_timeout() -> None:
    line = Scripted([b"VER\r\nSystem Model   : KX-TDE200\r\n"])
    with pytest.raises(CommandTimeout, match="KX-TDE200"):
        Console(line, PANASONIC, timeout=1).command("VER")


def test_output_that_merely_resembles_the_command_is_kept() -> None:
    assert clean_output("ALARM\r\n", echo="ALM") == "ALARM"
    assert clean_output("VERY\r\nx\r\n", echo="VER") == "x"  # one stray character: an echo


T = TypeVar("T")


def retry(getter: Callable[[], T], attempts: int = 3) -> tuple[T, int]:
    """What a careful caller does on a noisy line: a reading that does not parse (a noise
    byte inside a data line) is read again. (value, how many retries it took)."""
    for attempt in range(attempts - 1):
        try:
            return getter(), attempt
        except ParseError:
            continue
    return getter(), attempts - 1


def test_realistic_noise_never_breaks_prompt_detection(pbx: PbxState) -> None:
    """At 1e-4 per byte (a fair analogue line) every command still finds its prompt; a
    hit inside a data line is a ParseError, and reading again gets the right answer.
    The seeds put noise in blank space and echoes (1), data lines (4) and inside prompts
    (11, 26: accepted after NOISY_PROMPT_QUIET of silence)."""
    noise = retries = 0
    for seed in (1, 4, 11, 26):
        conditions = LineConditions(noise_rate=1e-4, noise_seed=seed,
                                    noise_direction=NoiseDirection.TO_CLIENT)
        with serve_telnet(pbx, password=PASSWORD, conditions=conditions) as endpoint, \
                line_for(endpoint.url) as line:
            driver = PanasonicDriver(Console(line, PANASONIC, timeout=5))
            driver.open_session(CREDENTIALS)
            expected = expected_survey(pbx)
            for _ in range(12):
                info, r1 = retry(driver.system_info)
                cards, r2 = retry(driver.cards)
                extensions, r3 = retry(driver.extensions)
                assert (info.model, len(cards), len(extensions)) == (
                    expected.model, expected.cards, expected.extensions)
                retries += r1 + r2 + r3
            driver.close_session()
        noise += endpoint.stats.noise_bytes
    assert noise > 0 and retries <= noise


def test_secret_timeout_message_is_scrubbed_whole(tmp_path: Path) -> None:
    from agent.line.secrets import Secret

    secret = Secret("Cut-In-The-Middle-77")
    padding = b"x" * 150
    line = Scripted([b"Password: " + secret.reveal().encode()[:5],
                     secret.reveal().encode()[5:] + padding])
    console = Console(line, PANASONIC, timeout=0.1)
    console.send_secret(secret)
    line.chunks.append(b"")  # then silence
    with pytest.raises(CommandTimeout) as caught:
        console.wait_for([r"never"], timeout=0.2)
    assert "Middle-77" not in str(caught.value) and "Cut-In" not in str(caught.value)


class EndlessPager(Transport):
    """A broken console that answers every key with another page, data always buffered."""

    def __init__(self) -> None:
        super().__init__()
        self.pages = 0

    @property
    def display_url(self) -> str:
        return "pager://"

    def open(self) -> None:
        pass

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        self.pages += 1
        return b"line of output\r\n--More--"

    def _write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def test_an_endless_pager_is_stopped_by_the_page_cap() -> None:
    from agent.line.console import MAX_PAGER_ANSWERS

    line = EndlessPager()
    dialect = ConsoleDialect(prompt=r"> ", pager=r"--More--")
    with pytest.raises(CommandTimeout, match=f"more than {MAX_PAGER_ANSWERS} pages"):
        Console(line, dialect, timeout=60).command("LIST")
    assert line.pages <= MAX_PAGER_ANSWERS + 2


def test_a_stream_of_data_cannot_extend_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the page cap out of the way, the hard deadline still ends the command, and
    the message says how long it really waited (once: "within 0s")."""
    import agent.line.console as console_module

    monkeypatch.setattr(console_module, "MAX_PAGER_ANSWERS", 10**9)
    dialect = ConsoleDialect(prompt=r"> ", pager=r"--More--")
    with pytest.raises(CommandTimeout) as caught:  # it used to run for ever
        Console(EndlessPager(), dialect, timeout=0.3).command("LIST")
    assert "within 0.3s (waited 0." in str(caught.value)
