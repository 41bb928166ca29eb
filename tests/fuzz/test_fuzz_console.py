"""Fuzz the console against a line that delivers arbitrary bytes (issue 13 #3 and #4).

``Console.command`` must end with the output, or with a line error (``CommandTimeout``,
``LineDropped``) — and end: no stream of data extends its deadline, and no console pages
for ever. Time is virtual (the line says how long each read took), so the assertions
are on counts — reads, pager answers — never on the wall clock, and a test that would
hang fails on the read cap instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pexpect.expect
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agent.line import console as console_module
from agent.line.console import MAX_PAGER_ANSWERS, Console
from agent.line.errors import CommandTimeout, ConnectionProblem, LineDropped
from agent.line.transports.base import Transport
from drivers.panasonic import PanasonicDriver
from drivers.toshiba import ToshibaDriver

from .budget import FUZZ

DIALECTS = {"panasonic": PanasonicDriver.dialect, "toshiba": ToshibaDriver.dialect}
PROMPTS = {"panasonic": b"KX-TDE200> ", "toshiba": b"STRATA-CTX670# "}
PAGERS = {"panasonic": b"-- More -- ", "toshiba": b"-- [C]ONTINUE [Q]UIT --"}
TIMEOUT = 1.0
READ_CAP = 100_000  # far above any bound below: a console that gets here never stops


class VirtualClock:
    """``time.monotonic``/``time.time`` for the console and pexpect, moved by the line."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FuzzedLine(Transport):
    """Delivers ``chunks`` one read each, then: drops the line, goes silent, or repeats
    them for ever; every read that returns data takes ``per_read`` seconds of line time."""

    def __init__(self, clock: VirtualClock, chunks: list[bytes], then: str,
                 per_read: float) -> None:
        super().__init__()
        self.clock, self.chunks, self.then, self.per_read = clock, chunks, then, per_read
        self.reads = 0
        self.written: list[bytes] = []

    @property
    def display_url(self) -> str:
        return "fuzz://line"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        self.reads += 1
        assert self.reads < READ_CAP, "the console kept reading: no deadline held"
        index = self.reads - 1
        if index >= len(self.chunks) or not self.chunks:
            if self.then == "drop":
                raise LineDropped("the line closed")
            if self.then == "silent" or not self.chunks:
                self.clock.sleep(timeout)
                return b""
            index %= len(self.chunks)
        self.clock.sleep(self.per_read)
        return self.chunks[index][:max_bytes]

    def _write(self, data: bytes) -> None:
        self.written.append(data)


@contextmanager
def virtual_time(clock: VirtualClock) -> Iterator[None]:
    with mock.patch.object(console_module, "time", clock), \
            mock.patch.object(pexpect.expect, "time", clock):
        yield


def run(vendor: str, chunks: list[bytes], then: str, per_read: float
        ) -> tuple[FuzzedLine, str | ConnectionProblem]:
    clock = VirtualClock()
    line = FuzzedLine(clock, chunks, then, per_read)
    with virtual_time(clock):
        console = Console(line, DIALECTS[vendor], timeout=TIMEOUT)
        try:
            return line, console.command("CO", timeout=TIMEOUT)
        except (CommandTimeout, LineDropped) as exc:
            return line, exc


def chunk(vendor: str) -> st.SearchStrategy[bytes]:
    """Bytes a line may carry, with the dialect's own prompt and pager mixed in."""
    return st.one_of(
        st.binary(max_size=64),
        st.sampled_from([PROMPTS[vendor], PAGERS[vendor], b"\r\n", b"CO\r\n", b"\x1b[6n",
                         b"\xff\xfb\x01", b"\x00" * 8, b"\f", b"\r \r"]),
        st.lists(st.sampled_from([PROMPTS[vendor], b"x", b"\r\n", PAGERS[vendor]]),
                 max_size=6).map(b"".join),
    )


@pytest.mark.parametrize("vendor", sorted(DIALECTS))
@given(data=st.data(), then=st.sampled_from(["drop", "silent", "repeat"]),
       per_read=st.sampled_from([0.001, 0.01, 0.2]))
@example(data=None, then="repeat", per_read=0.001)  # an endless pager, no prompt
@FUZZ
def test_command_ends_with_output_or_a_line_error(vendor: str, data: st.DataObject | None,
                                                  then: str, per_read: float) -> None:
    chunks = ([PAGERS[vendor]] if data is None
              else data.draw(st.lists(chunk(vendor), max_size=20), label="chunks"))
    line, outcome = run(vendor, chunks, then, per_read)
    assert isinstance(outcome, (str, CommandTimeout, LineDropped))
    pager_answers = line.written.count(DIALECTS[vendor].pager_answer)
    assert pager_answers <= MAX_PAGER_ANSWERS
    # Each read with data takes per_read: past the deadline the console stops reading.
    assert line.reads <= TIMEOUT / per_read + len(chunks) + 10
    if isinstance(outcome, CommandTimeout) and "kept paging" not in str(outcome):
        assert "waited" in str(outcome) and "within 0s" not in str(outcome)


@pytest.mark.parametrize("vendor", sorted(DIALECTS))
def test_an_endless_pager_that_takes_no_time_is_stopped_by_the_page_cap(vendor: str) -> None:
    """Data always buffered, no time passing: only the cap on pager answers ends it."""
    line, outcome = run(vendor, [b"line\r\n" + PAGERS[vendor]], "repeat", 0.0)
    assert isinstance(outcome, CommandTimeout)
    assert "kept paging" in str(outcome)
    assert line.written.count(DIALECTS[vendor].pager_answer) == MAX_PAGER_ANSWERS
