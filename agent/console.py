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

from agent.errors import CommandTimeout, LineDropped
from agent.secrets import REDACTOR, Secret
from agent.transcript import Transcript
from agent.transports.base import Transport

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_SEARCH_WINDOW = 512
_READ_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class ConsoleDialect:
    """What the console must know of a vendor before the first command."""

    prompt: str  # regex matched at the end of output
    pager: str | None = None  # regex of a "more" prompt, answered with pager_answer
    pager_answer: bytes = b" "
    line_ending: bytes = b"\r"
    encoding: str = "ascii"


class Console(SpawnBase):  # type: ignore[misc]  # pexpect ships no type hints
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

    # --- SpawnBase plumbing -----------------------------------------------------------

    def read_nonblocking(self, size: int = 1, timeout: float | None = -1) -> str:
        if timeout == -1:
            timeout = self.timeout
        data = self.transport.read(size, self.default_timeout if timeout is None else timeout)
        if not data:
            raise pexpect.TIMEOUT("no data before the deadline")
        self.transcript.received(data)
        text: str = self._decoder.decode(data, final=False)
        return text

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
        self.transcript.sent_secret(self.dialect.line_ending)

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
        """Run one command; return its output without echo, pager prompts or the prompt."""
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        self.sendline(text)
        patterns: list[Any] = [self._prompt] if self._pager is None else [self._prompt,
                                                                           self._pager]
        pieces: list[str] = []
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            index = self.wait_for(patterns, remaining, what=f"the reply to {text!r}")
            pieces.append(str(self.before))
            if index == 0:
                break
            self.send(self.dialect.pager_answer)
        return clean_output("".join(pieces), echo=text)

    def _tail(self) -> str:
        before = self.before if isinstance(self.before, str) else ""
        return REDACTOR.scrub(before[-160:])


def clean_output(raw: str, *, echo: str | None = None) -> str:
    """Normalise a reply: no ANSI escapes, LF line ends, pager erasures and echo removed."""
    text = _ANSI.sub("", raw).replace("\r\n", "\n")
    lines = [_after_last_cr(line) for line in text.split("\n")]
    if echo is not None and lines and lines[0].strip() == echo.strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _after_last_cr(line: str) -> str:
    """A bare CR returns the cursor: keep only what the terminal would finally show."""
    if "\r" not in line:
        return line
    kept = [part for part in line.split("\r") if part.strip()]
    return kept[-1] if kept else ""
