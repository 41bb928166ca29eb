"""Expect-style dialogue with a PBX console over any transport, on pexpect's machinery.

``Console`` is a pexpect ``SpawnBase`` whose bytes come from a ``Transport``, so
``expect``, ``expect_exact``, ``TIMEOUT``, ``EOF``, ``before`` and ``after`` behave as
pexpect users know. On top it offers ``command()``: send the command and its line ending
in one write, then match echo, output, pager prompts and the final prompt in one read
loop with one deadline — never a fixed sleep. Patterns are searched on the buffer's
tail only, so a long output does not make each read slower.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pexpect
from pexpect.spawnbase import SpawnBase

from agent.line.errors import CommandTimeout, LineDropped
from agent.line.secrets import REDACTOR, Secret
from agent.line.transcript import Transcript
from agent.line.transports.base import Transport

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_SEARCH_WINDOW = 512
_READ_CHUNK = 65536
#: VT100 "where is the cursor?" (DSR 6) and our answer: row 24, column 1, as a terminal
#: that has just scrolled would say. Some consoles wait for it before printing a prompt.
CURSOR_QUERY = b"\x1b[6n"
CURSOR_REPLY = b"\x1b[24;1R"
#: Bytes an ASCII console never sends: 8-bit bytes and controls other than TAB, LF, CR,
#: BS, ESC and BEL. On a noisy line they are noise; dropping them before matching keeps a
#: hit inside a prompt or an echo from costing a command timeout.
_NOISE = bytes(b for b in range(256) if b >= 0x80 or (b < 0x20 and b not in b"\t\n\r\b\x1b\x07"))
_PAGER_ERASE = re.compile(r"\r +\r")
_ECHO_NOISE_SLACK = 1  # stray characters tolerated inside an echoed command
#: Seconds of silence after which a prompt with one noise character in it is accepted:
#: a noisy prompt costs this much, instead of the whole command deadline.
NOISY_PROMPT_QUIET = 0.5
_NOISY_PROMPT_MAX = 200  # a longer last line is output, not a prompt
#: Pages one command may show: the longest real listing (every extension of a KX-NS1000)
#: is well under 100 pages; a console that pages for ever is broken, not slow.
MAX_PAGER_ANSWERS = 500


@dataclass(frozen=True, slots=True)
class ConsoleDialect:
    """What the console must know of a vendor before the first command."""

    prompt: str  # regex matched at the end of output
    pager: str | None = None  # regex of a "more" prompt, answered with pager_answer
    pager_answer: bytes = b" "
    line_ending: bytes = b"\r"  # what the client sends at the end of a line
    encoding: str = "ascii"
    #: What the PBX ends its lines with: CR LF (Panasonic), or a bare CR (Toshiba), in
    #: which case a CR not followed by LF is a line end, not a carriage return.
    pbx_line_ending: bytes = b"\r\n"
    #: Drop bytes the PBX never sends (see ``_NOISE``); off for an 8-bit dialect.
    filter_noise: bool = True


class Console(SpawnBase):  # type: ignore[misc]  # pexpect ships no type hints
    before: Any  # pexpect's match results (str, or a TIMEOUT/EOF marker)
    after: Any

    def __init__(self, transport: Transport, dialect: ConsoleDialect, *,
                 transcript: Transcript | None = None, timeout: float = 15.0) -> None:
        super().__init__(timeout=timeout, maxread=_READ_CHUNK,
                         searchwindowsize=_SEARCH_WINDOW,
                         encoding=dialect.encoding, codec_errors="replace")
        # pexpect sleeps after every read and before every send by default: never here.
        self.delayafterread = None
        self.delaybeforesend = None
        self.transport = transport
        self.dialect = dialect
        self.transcript = transcript if transcript is not None else Transcript()
        self.default_timeout = timeout
        self._prompt = re.compile(dialect.prompt + r"\Z")
        self._pager = re.compile(dialect.pager + r"\Z") if dialect.pager else None
        self._query_tail = b""  # the end of the last read, for a query split across reads

    # --- SpawnBase plumbing -----------------------------------------------------------

    def read_nonblocking(self, size: int = 1, timeout: float | None = -1) -> str:
        if timeout == -1:
            timeout = self.timeout
        data = self.transport.read(size, self.default_timeout if timeout is None else timeout)
        if not data:
            raise pexpect.TIMEOUT("no data before the deadline")
        self.transcript.received(data)
        self._answer_cursor_queries(data)
        if self.dialect.filter_noise:
            data = data.translate(None, _NOISE)
        text: str = self._decoder.decode(data, final=False)  # errors="replace": never raises
        return text

    def _answer_cursor_queries(self, data: bytes) -> None:
        """Answer each ``ESC[6n`` that ends in this read (it may start in the last one)."""
        window = self._query_tail + data
        start = window.find(CURSOR_QUERY)
        while start >= 0:
            if start + len(CURSOR_QUERY) > len(self._query_tail):
                self.send(CURSOR_REPLY)
            start = window.find(CURSOR_QUERY, start + 1)
        self._query_tail = window[-(len(CURSOR_QUERY) - 1):]

    def send(self, s: str | bytes) -> int:
        data = s if isinstance(s, bytes) else s.encode(self.dialect.encoding, errors="replace")
        self.transport.write(data)
        self.transcript.sent(data)
        return len(data)

    def sendline(self, s: str = "") -> int:
        return self.send(s.encode(self.dialect.encoding, errors="replace")
                         + self.dialect.line_ending)

    def send_secret(self, secret: Secret) -> None:
        """Send a secret and its line ending; the transcript records only a mask."""
        REDACTOR.add(secret.reveal())
        payload = secret.reveal().encode(self.dialect.encoding) + self.dialect.line_ending
        self.transport.write(payload)
        self.transcript.sent_secret(self.dialect.line_ending, secret.reveal())

    def isalive(self) -> bool:
        return True

    # --- the dialogue -----------------------------------------------------------------

    def wait_for(self, patterns: list[Any], timeout: float | None = None,
                 what: str = "the PBX") -> int:
        """``expect`` with the project's typed errors instead of pexpect's."""
        deadline = self.default_timeout if timeout is None else timeout
        try:
            index: int = self.expect(patterns, timeout=deadline)
        except pexpect.TIMEOUT:
            raise CommandTimeout(
                f"no answer from {what} within {deadline:g}s; last output: {self._tail()!r}"
            ) from None
        except pexpect.EOF:
            raise LineDropped(f"line closed while waiting for {what}") from None
        return index

    def wait_for_prompt(self, timeout: float | None = None) -> str:
        self.wait_for([self._prompt], timeout, what="the prompt")
        return str(self.before)

    def command(self, text: str, timeout: float | None = None) -> str:
        """Run one command; return its output without echo, pager prompts or the prompt.

        The deadline is hard: no stream of data (an endless pager, a chatty line) extends
        it, and a command that pages more than ``MAX_PAGER_ANSWERS`` times is stopped."""
        budget = self.default_timeout if timeout is None else timeout
        started = time.monotonic()
        deadline = started + budget
        what = f"the reply to {text!r}"
        self.sendline(text)
        patterns: list[Any] = [self._prompt] if self._pager is None else [self._prompt,
                                                                           self._pager]
        pieces: list[str] = []
        pages = 0
        while True:
            index = self._await_reply(patterns, started, deadline, what=what)
            pieces.append(str(self.before))
            if index == 0:
                break
            pages += 1
            if pages > MAX_PAGER_ANSWERS:
                raise CommandTimeout(f"{what} kept paging: more than {MAX_PAGER_ANSWERS} "
                                     f"pages in {time.monotonic() - started:.1f}s")
            self.send(self.dialect.pager_answer)
        return clean_output("".join(pieces), echo=text,
                            pbx_line_ending=self.dialect.pbx_line_ending.decode("ascii"))

    def _await_reply(self, patterns: list[Any], started: float, deadline: float,
                     what: str) -> int:
        """``wait_for`` up to ``deadline``; but once the line has been quiet a moment, a
        prompt with one stray (noise) character inside it is taken for the prompt."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timed_out(what, started, deadline)
            quiet = min(remaining, NOISY_PROMPT_QUIET)
            try:
                index: int = self.expect(patterns, timeout=quiet)
            except pexpect.TIMEOUT:
                if self._take_noisy_prompt():
                    return 0
                continue
            except pexpect.EOF:
                raise LineDropped(f"line closed while waiting for {what}") from None
            return index

    def _timed_out(self, what: str, started: float, deadline: float) -> CommandTimeout:
        """The message says the deadline and the real time waited, never "within 0s"."""
        elapsed = time.monotonic() - started
        return CommandTimeout(f"no answer from {what} within {deadline - started:g}s "
                              f"(waited {elapsed:.1f}s); last output: {self._tail()!r}")

    def _take_noisy_prompt(self) -> bool:
        """If the last line is the prompt plus one inserted character, consume it."""
        text = self.before if isinstance(self.before, str) else ""
        start = text.rfind("\n") + 1
        last = text[start:]
        if not last or len(last) > _NOISY_PROMPT_MAX:
            return False
        for cut in range(len(last)):
            candidate = last[:cut] + last[cut + 1:]
            match = self._prompt.search(candidate)
            if match is not None:
                self.before = text[:start] + candidate[:match.start()]
                self.after = last
                self.buffer = ""
                self._before = self.buffer_type()  # pexpect keeps unmatched text here
                return True
        return False

    def _tail(self) -> str:
        """The end of what arrived, for an error message: scrubbed *before* it is cut, so
        a secret is masked even when the cut would fall inside it."""
        before = self.before if isinstance(self.before, str) else ""
        return REDACTOR.scrub(before)[-160:]


def clean_output(raw: str, *, echo: str | None = None, pbx_line_ending: str = "\r\n") -> str:
    """Normalise a reply: no ANSI escapes, LF line ends, pager erasures and echo removed.

    With ``pbx_line_ending="\\r"`` (a bare-CR dialect) every CR ends a line — CR LF
    still counts once — and a pager erasure (CR, spaces, CR) is one line end.
    """
    text = _ANSI.sub("", raw)
    if pbx_line_ending == "\r":
        text = _PAGER_ERASE.sub("\r", text).replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
    else:
        lines = [_after_last_cr(line) for line in text.replace("\r\n", "\n").split("\n")]
    if echo is not None and lines and _is_echo(lines[0], echo):
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _is_echo(line: str, command: str) -> bool:
    """The first line is the command's echo — allowing a stray noise character in it."""
    got, want = line.strip(), command.strip()
    if got == want:
        return True
    if not want or not 0 < len(got) - len(want) <= _ECHO_NOISE_SLACK:
        return False
    remaining = iter(got)
    return all(ch in remaining for ch in want)  # ``want`` is a subsequence of ``got``


def _after_last_cr(line: str) -> str:
    """A bare CR returns the cursor: keep only what the terminal would finally show."""
    if "\r" not in line:
        return line
    kept = [part for part in line.split("\r") if part.strip()]
    return kept[-1] if kept else ""
