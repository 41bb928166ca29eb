"""A recorded session served back as a PBX: how a real site's dialect gets into the project.

A transcript (``transcript.jsonl``, written by every run and console session) is read as
exchanges: a line the client sent, and everything the PBX said until the client's next
line. Served back over any line, the k-th time a command is typed it gets the k-th reply
recorded for it (after the last, the last again). The login dialogue is played in order
whatever is typed — a masked secret in the recording accepts any password. A command the
recording does not have gets the dialect's own error reply and a log line naming it, so a
driver developed against a recording sees exactly where it strays from the real PBX.

The recording may come from a line that logs in by itself (SSH) and be served over one that
does not (telnet, a serial port, the modem), or the other way round: the login dialogue is
then made up in the dialect's words, or skipped. Timing is not replayed; line conditions
(``--baud``, ``--noise``) are the line server's, as for any simulated PBX.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from simulators.console_base import UNKNOWN_COMMAND, LineSession
from simulators.models import PANASONIC, TOSHIBA
from simulators.panasonic.console import PanasonicSession
from simulators.toshiba.console import ToshibaSession

log = logging.getLogger(__name__)

MASK = "********"  # what a transcript records for a secret sent (agent.line.secrets.MASK)
ANY_USER = "\x00user"  # the made-up login's user name line: whatever is typed
MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024
MAX_EXCHANGES = 200_000
MAX_LINE = 1024
#: A login dialogue is at most this many exchanges (a wake key, the user name, the secret).
LOGIN_EXCHANGES = 4
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")
_DIALECTS: dict[str, type[LineSession]] = {PANASONIC: PanasonicSession,
                                           TOSHIBA: ToshibaSession}
_TOSHIBA_PROMPT = re.compile(rb"STRATA-\S+# \Z")
_PANASONIC_PROMPT = re.compile(rb"\S+> \Z")


class RecordingError(ValueError):
    """The file is not a transcript this project wrote (message names file and line)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    key: str  # the line the client sent (no line ending); MASK for a secret
    reply: bytes  # what the PBX said until the client's next line


@dataclass(slots=True)
class Recording:
    vendor: str
    greeting: bytes
    login: list[Exchange] = field(default_factory=list)
    replies: dict[str, list[bytes]] = field(default_factory=dict)
    closing: frozenset[str] = frozenset()  # commands after which the PBX hung up

    @property
    def dialect(self) -> type[LineSession]:
        return _DIALECTS[self.vendor]


def load_recording(path: Path, *, vendor: str | None = None) -> Recording:
    """Read ``path`` into a ``Recording``; ``vendor`` overrides the one the prompts show."""
    if path.stat().st_size > MAX_TRANSCRIPT_BYTES:
        raise RecordingError(f"{path}: larger than {MAX_TRANSCRIPT_BYTES} bytes")
    events = _events(path)
    greeting, exchanges = _exchanges(events)
    names = {name.lower(): name for name in _DIALECTS}
    found = names.get(vendor.lower(), vendor) if vendor else _vendor(greeting, exchanges)
    if found not in _DIALECTS:
        raise RecordingError(f"{path}: cannot tell the vendor from the prompts; "
                             f"give --vendor ({', '.join(_DIALECTS)})")
    login: list[Exchange] = []
    secret_at = next((i for i, e in enumerate(exchanges[:LOGIN_EXCHANGES]) if e.key == MASK),
                     None)
    if secret_at is not None:
        login, exchanges = exchanges[:secret_at + 1], exchanges[secret_at + 1:]
    replies: dict[str, list[bytes]] = defaultdict(list)
    for exchange in exchanges:
        replies[exchange.key].append(exchange.reply)
    closing = frozenset({exchanges[-1].key}) if exchanges else frozenset()
    return Recording(found, greeting, login, dict(replies), closing)


def _events(path: Path) -> list[tuple[str, bytes]]:
    """(direction, bytes) per chunk, consecutive chunks of one direction joined."""
    events: list[tuple[str, bytes]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except ValueError as err:
                raise RecordingError(f"{path}:{number}: not JSON ({err})") from None
            if number == 1:
                if not isinstance(record, dict) or record.get("transcript") != 1:
                    raise RecordingError(f"{path}:1: not a pbxdiag transcript (no header)")
                continue
            if not isinstance(record, dict) or record.get("dir") not in ("in", "out") \
                    or not isinstance(record.get("data"), str):
                raise RecordingError(f"{path}:{number}: not a transcript chunk")
            data = record["data"].encode("latin-1", "replace")
            if events and events[-1][0] == record["dir"]:
                events[-1] = (record["dir"], events[-1][1] + data)
            else:
                events.append((record["dir"], data))
    return events


def _exchanges(events: list[tuple[str, bytes]]) -> tuple[bytes, list[Exchange]]:
    """Outbound bytes up to a line end make a line (keystrokes and their echoes included);
    its reply is what came in after the line end until the client's next byte."""
    greeting = b""
    exchanges: list[Exchange] = []
    typed = bytearray()
    key: str | None = None
    reply = bytearray()
    prev = 0
    for direction, data in events:
        if direction == "in":
            if key is not None:
                reply += data
            elif not typed and not exchanges:
                greeting += data
            continue  # inbound while a line is being typed is its echo
        for byte in _ANSI.sub(b"", data):
            if byte == 0x0A and prev == 0x0D:
                prev = byte
                continue  # the LF of a CR LF
            prev = byte
            if key is not None and len(exchanges) < MAX_EXCHANGES:
                exchanges.append(Exchange(key, bytes(reply)))
                key, reply = None, bytearray()
            if byte in (0x0D, 0x0A):
                key = typed.decode("ascii", "replace").strip()
                typed.clear()
            elif byte in (0x08, 0x7F):
                if typed:
                    typed.pop()
            elif len(typed) < MAX_LINE:
                typed.append(byte)
    if key is not None:
        exchanges.append(Exchange(key, bytes(reply)))
    return greeting, exchanges


def _vendor(greeting: bytes, exchanges: list[Exchange]) -> str | None:
    for text in (greeting, *(e.reply for e in exchanges)):
        if _TOSHIBA_PROMPT.search(text):
            return TOSHIBA
        if _PANASONIC_PROMPT.search(text):
            return PANASONIC
    return None


class ReplaySession:
    """One connection's console, answered from a ``Recording`` (the ``ConsoleSession``
    protocol of the line servers: ``start``, ``feed``, ``close``, ``closed``)."""

    def __init__(self, recording: Recording, *, login_required: bool,
                 send: Callable[[bytes], None]) -> None:
        self._rec = recording
        self._send = send
        self._closed = False
        self._line = bytearray()
        self._skip_lf = False
        self._counts: dict[str, int] = defaultdict(int)
        self._last = b""
        dialect = recording.dialect
        if not login_required:
            last_login = recording.login[-1].reply if recording.login else b""
            self._greeting = last_login.lstrip(b"\r\n") or recording.greeting
            self._login: list[Exchange] = []
        elif recording.login:
            self._greeting, self._login = recording.greeting, list(recording.login)
        else:  # recorded over SSH: the dialogue in the dialect's words, then the greeting
            self._greeting = dialect.username_prompt
            self._login = [Exchange(ANY_USER, dialect.password_prompt),
                           Exchange(MASK, dialect.line_ending + recording.greeting)]

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> None:
        self._out(self._greeting)

    def close(self) -> None:
        self._closed = True

    def feed(self, data: bytes) -> None:
        echo = bytearray()
        for byte in data:
            if self._closed:
                break
            if self._skip_lf and byte == 0x0A:
                self._skip_lf = False
                continue
            self._skip_lf = byte == 0x0D
            if byte in (0x0D, 0x0A):
                if echo:
                    self._send(bytes(echo))
                    echo.clear()
                self._end_of_line(self._line.decode("ascii", "replace").strip())
                self._line.clear()
            elif byte in (0x08, 0x7F):
                if self._line:
                    self._line.pop()
                    echo += b"\b \b" if not self._secret_next else b""
            elif 0x20 <= byte < 0x7F and len(self._line) < MAX_LINE:
                self._line.append(byte)
                if not self._secret_next:
                    echo.append(byte)
        if echo and not self._closed:
            self._send(bytes(echo))

    @property
    def _secret_next(self) -> bool:
        return bool(self._login) and self._login[0].key == MASK

    def _end_of_line(self, typed: str) -> None:
        if self._login:
            self._login_line(typed)
            return
        self._out(self._reply(typed))
        if self._closing(typed):
            self._closed = True

    def _login_line(self, typed: str) -> None:
        """The login dialogue in recorded order: any user name, any password."""
        while self._login and self._login[0].key == "" and typed:
            self._login.pop(0)  # a wake key the client did not need to send
        if not self._login:
            self._end_of_line(typed)
            return
        if not typed and self._login[0].key not in ("", MASK):
            self._out(self._last[self._last.rfind(b"\n") + 1:])  # the prompt again
            return
        exchange = self._login.pop(0)
        self._out(_without_echo(exchange.reply, exchange.key))

    def _reply(self, typed: str) -> bytes:
        key = self._key(typed)
        if key is None:
            log.warning("replay: command not in the recording: %r", typed)
            dialect = self._rec.dialect
            line = dialect.reply_error.render(*UNKNOWN_COMMAND).encode("ascii")
            return dialect.line_ending + line + dialect.line_ending + self._prompt()
        replies = self._rec.replies[key]
        index = min(self._counts[key], len(replies) - 1)
        self._counts[key] += 1
        return _without_echo(replies[index], key)

    def _key(self, typed: str) -> str | None:
        if typed in self._rec.replies:
            return typed
        for key in self._rec.replies:
            if key.upper() == typed.upper() or (
                    "*" in key and _masked(key).fullmatch(typed) is not None):
                return key
        return None

    def _closing(self, typed: str) -> bool:
        key = self._key(typed)
        return key is not None and key in self._rec.closing

    def _prompt(self) -> bytes:
        """The prompt the PBX showed last (its programming mark included)."""
        last = self._last.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return last[last.rfind(b"\n") + 1:]

    def _out(self, data: bytes) -> None:
        if data:
            self._last = (self._last + data)[-MAX_LINE:]
            self._send(data)


def _without_echo(reply: bytes, key: str) -> bytes:
    """The recorded reply less the recorded echo of the line: the replay echoes as typed."""
    echo = key.encode("ascii", "replace")
    return reply[len(echo):] if echo and key != MASK and reply.startswith(echo) else reply


def _masked(key: str) -> re.Pattern[str]:
    """A recorded line with a masked secret in it (``****``) matches any value there."""
    parts = re.split(r"\*{4,}", key)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.IGNORECASE)


def replay_session_maker(recording: Recording, *, login_required: bool
                         ) -> Callable[[Callable[[bytes], None]], ReplaySession]:
    """What a line server calls per connection."""

    def make(send: Callable[[bytes], None]) -> ReplaySession:
        return ReplaySession(recording, login_required=login_required, send=send)

    return make
