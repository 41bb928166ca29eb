"""One interactive console session: the site's line, the driver's login, the engineer's keys.

The line is opened exactly as a run opens it (``runner.SiteLine``: the site's paths in order,
fall-through, host-key rules, the driver's login), so what works for a run works here and
the transcript is recorded and redacted by the same ``Transcript``. A backup is taken
before the first key reaches the PBX: whatever the engineer then changes by hand, the
programming as it was is on disk. Every exit (``~.``, end of input, a closed terminal,
SIGTERM, a lost line, a bug) goes through one ``finally``: log out, hang up, save.

Two input modes share the escapes: keystrokes from a terminal in raw mode, or whole lines
from a pipe — each sent, then its reply read up to the next prompt, so a script gets its
output in order.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pexpect

from agent.backups import history_for
from agent.console_session.escapes import HELP, Action, Escape, KeyEscapes, parse_line_escape, table
from agent.console_session.terminal import TerminalGone, hang_up_on_signals, raw_mode
from agent.inventory import Site
from agent.line.console import Console
from agent.line.errors import (
    CommandRejected,
    CommandTimeout,
    ConnectionProblem,
    LineDropped,
    ParseError,
)
from agent.line.secrets import MIN_SECRET_LEN, REDACTOR, Secret
from agent.line.transcript import Transcript
from agent.runner import SiteLine, new_run_id
from drivers import driver_class
from drivers.base import GETTERS, Driver

#: A PBX asking for a secret: what is typed next is sent as one (masked in the transcript,
#: its echo masked by the echo-window rule), never keystroke by keystroke.
PASSWORD_PROMPT = re.compile(r"(?i)(password|passcode|pin)\s*:\s*\Z")
POLL = 0.05  # seconds each side (keys, line) is watched per turn in raw mode
READ_CHUNK = 4096
MAX_INPUT_LINE = 4096  # a piped line longer than this is cut
MAX_PIPED_LINES = 100_000
MAX_KEY_TURNS = 100_000_000  # raw mode: ~58 days of polling; a bound, not a limit in use
_TAIL = 512  # how much of the PBX's last output is kept to recognise its prompt


@dataclass(slots=True)
class SessionRecord:
    """What ``session.json`` says about one console session (no secrets in it)."""

    session_id: str
    site: str
    started_at: str
    finished_at: str = ""
    path: str | None = None
    ended: str = ""
    error: str | None = None
    lines_sent: int = 0
    backups: list[str] = field(default_factory=list)
    transcript: str = ""
    ticket: str | None = None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)


def session_folder(data_dir: Path, session_id: str) -> Path:
    return data_dir / "console" / session_id


class _Screen:
    """The engineer's side: the PBX's output on ``out``, our notes on ``notes``; in raw mode
    a bare LF would not return the carriage, so our own text gets CR LF. A closed
    terminal makes writes fail: they are dropped, the session still ends cleanly."""

    def __init__(self, out: BinaryIO, notes: BinaryIO) -> None:
        self.out = out
        self.notes = notes
        self.raw = False

    def pbx(self, text: str) -> None:
        self._write(self.out, text.encode("utf-8", "replace"))

    def show(self, text: str) -> None:
        """Our own text on the PBX's stream (a getter's table, the help)."""
        self._write(self.out, self._lines(text))

    def note(self, text: str) -> None:
        self._write(self.notes, self._lines(f"pbxdiag: {text}"))

    def _lines(self, text: str) -> bytes:
        text = text if text.endswith("\n") else text + "\n"
        if self.raw:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return text.encode("utf-8", "replace")

    @staticmethod
    def _write(stream: BinaryIO, data: bytes) -> None:
        try:
            stream.write(data)
            stream.flush()
        except (OSError, ValueError):
            pass


class ConsoleSession:
    """Run one console session on ``site``; ``run`` returns its record (always saved)."""

    def __init__(self, site: Site, *, data_dir: Path, stdin: BinaryIO, stdout: BinaryIO,
                 notes: BinaryIO, ticket: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.site = site
        self._stdin = stdin
        self._screen = _Screen(stdout, notes)
        started = now()
        self.record = SessionRecord(session_id=new_run_id(site.id, started), site=site.id,
                                    started_at=started.isoformat(timespec="seconds"),
                                    ticket=ticket)
        self.folder = session_folder(data_dir, self.record.session_id)
        self.data_dir = data_dir
        self._now = now
        self._tail = ""
        self._secret: bytearray | None = None  # a secret being typed at the PBX's prompt
        self.signalled: int | None = None  # SIGHUP/SIGTERM ended the session
        self._last_line = ""  # the last whole line sent (was it the logout?)
        self._typing = ""  # raw mode: the keys sent lately

    # --- the session's frame ----------------------------------------------------------

    def run(self) -> SessionRecord:
        """Dial, log in, back up, hand the line to the engineer; always hang up and save.

        A line problem is re-raised once everything is saved (the command exits 3)."""
        transcript = Transcript()
        credentials = self.site.credentials.resolve()
        line = SiteLine(self.site, credentials, driver_class(self.site.vendor), transcript)
        try:
            with hang_up_on_signals():
                try:
                    self._screen.note(f"connecting to {self.site.id}…")
                    driver = line.driver()
                    self.record.path = next((a.url for a in line.paths_tried if not a.error),
                                            None)
                    self._screen.note(f"connected over {self.record.path}; ~? for help")
                    self._backup(driver)
                    self._interact(driver)
                finally:
                    line.close()  # log out, hang up: on every way out of the block
        except TerminalGone as gone:
            self.record.ended = str(gone)
            self.signalled = gone.signum
        except ConnectionProblem as err:
            self.record.ended = "line problem"
            self.record.error = REDACTOR.scrub(f"{type(err).__name__}: {err}")
            raise
        except BaseException as err:
            self.record.ended = "error"
            self.record.error = REDACTOR.scrub(f"{type(err).__name__}: {err}")
            raise
        finally:
            self._save(transcript)
        return self.record

    def _save(self, transcript: Transcript) -> None:
        path = transcript.save(self.folder / "transcript.jsonl")
        self.record.transcript = str(path)
        self.record.finished_at = self._now().isoformat(timespec="seconds")
        self.record.write(self.folder / "session.json")
        self._screen.raw = False
        self._screen.note(f"session ended ({self.record.ended or 'hung up'}); "
                          f"transcript: {path}")

    def _interact(self, driver: Driver) -> None:
        console: Console = driver.console
        fd = self._fileno()
        with raw_mode(fd) if fd is not None else contextlib.nullcontext(False) as raw:
            self._screen.raw = raw
            self._show_leftover(console)
            try:
                if raw and fd is not None:
                    self._keys(driver, fd)
                else:
                    self._lines(driver)
            except LineDropped:
                if self._last_line.strip().upper() != getattr(driver, "logout", "").upper():
                    raise
                self.record.ended = "logged out"  # the engineer typed the logout command
        self._screen.raw = False

    def _fileno(self) -> int | None:
        try:
            return self._stdin.fileno()
        except (OSError, ValueError, AttributeError):
            return None

    # --- piped input: one line, then its reply -----------------------------------------

    def _lines(self, driver: Driver) -> None:
        console: Console = driver.console
        for _ in range(MAX_PIPED_LINES):
            raw = self._stdin.readline(MAX_INPUT_LINE)
            if not raw:
                self.record.ended = "end of input"
                return
            text = raw.decode(console.dialect.encoding, "replace").rstrip("\r\n")
            escape = parse_line_escape(text)
            if isinstance(escape, Escape):
                if self._escape(driver, escape):
                    return
                continue
            if isinstance(escape, str):
                text = escape
            if self._wants_secret():
                self._send_secret(console, text)
            else:
                self._last_line = text
                console.sendline(text)
                self.record.lines_sent += 1
            self._read_reply(console)
        self.record.ended = f"input limit ({MAX_PIPED_LINES} lines)"

    def _read_reply(self, console: Console) -> None:
        """Show what the PBX says until its prompt (or a password or pager prompt), or
        until the site's timeout: a silent PBX does not hang a script."""
        prompts = [re.compile(console.dialect.prompt + r"\Z"), PASSWORD_PROMPT]
        if console.dialect.pager:
            prompts.append(re.compile(console.dialect.pager + r"\Z"))
        self._tail = ""
        deadline = time.monotonic() + self.site.timeout
        while not any(p.search(self._tail) for p in prompts):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._pump(console, min(remaining, 0.5))

    # --- a terminal in raw mode: keystrokes --------------------------------------------

    def _keys(self, driver: Driver, fd: int) -> None:
        console: Console = driver.console
        keys = KeyEscapes()
        for _ in range(MAX_KEY_TURNS):
            ready, _w, _x = select.select([fd], [], [], POLL)
            if ready:
                data = os.read(fd, READ_CHUNK)
                if not data:
                    self.record.ended = "end of input"
                    return
                for item in keys.feed(data):
                    if keys.echo:
                        self._screen.pbx(keys.echo.decode("ascii", "replace"))
                        keys.echo.clear()
                    if isinstance(item, Escape):
                        if self._escape(driver, item):
                            return
                        self._screen.pbx(self._tail[self._tail.rfind("\n") + 1:])
                    else:
                        self._type(console, item)
                if keys.echo:
                    self._screen.pbx(keys.echo.decode("ascii", "replace"))
                    keys.echo.clear()
            self._pump(console, 0.0 if ready else POLL)

    def _type(self, console: Console, data: bytes) -> None:
        """Keys for the PBX; at its password prompt they are gathered into one secret."""
        if self._secret is None and not self._wants_secret():
            self._typing = (self._typing + data.decode("ascii", "replace"))[-_TAIL:]
            line, end, _rest = self._typing.rpartition("\r")
            if end:
                self._last_line = line[line.rfind("\r") + 1:]
            console.send(data)
            return
        secret = self._secret if self._secret is not None else bytearray()
        self._secret = secret
        for byte in data:
            if byte in (0x0D, 0x0A):
                self._secret = None
                self._send_secret(console, secret.decode(console.dialect.encoding, "replace"))
                return
            if byte in (0x08, 0x7F):
                if secret:
                    secret.pop()
            elif len(secret) < MAX_INPUT_LINE:
                secret.append(byte)

    # --- shared ------------------------------------------------------------------------

    def _pump(self, console: Console, timeout: float) -> None:
        """Show whatever the PBX sends within ``timeout``."""
        try:
            text = console.read_nonblocking(READ_CHUNK, timeout)
        except pexpect.TIMEOUT:
            return
        self._shown(text)

    def _shown(self, text: str) -> None:
        if text:
            self._screen.pbx(text)
            self._tail = (self._tail + text)[-_TAIL:]

    def _show_leftover(self, console: Console) -> None:
        """What arrived after the login's last match (pexpect's buffer) is shown first."""
        leftover = console.buffer if isinstance(console.buffer, str) else ""
        after = console.after if isinstance(console.after, str) else ""
        console.buffer = ""
        self._shown(after + leftover)

    def _wants_secret(self) -> bool:
        return PASSWORD_PROMPT.search(self._tail) is not None

    def _send_secret(self, console: Console, value: str) -> None:
        """The transcript records a mask and opens the echo window (transcript.py)."""
        self._tail = ""
        if len(value) >= MIN_SECRET_LEN:
            console.send_secret(Secret(value))
            return
        # Too short to register for redaction everywhere: still never recorded in clear.
        console.transport.write(value.encode(console.dialect.encoding, "replace")
                                + console.dialect.line_ending)
        console.transcript.sent_secret(console.dialect.line_ending)

    def _escape(self, driver: Driver, escape: Escape) -> bool:
        """Carry out an escape; True when it ends the session."""
        if escape.action is Action.HANG_UP:
            self.record.ended = "~."
            return True
        if escape.action is Action.HELP:
            self._screen.show(HELP)
        elif escape.action is Action.BACKUP:
            self._backup(driver)
        else:
            self._getter(driver, escape.argument)
        return False

    def _getter(self, driver: Driver, name: str) -> None:
        if name not in GETTERS:
            self._screen.show(f"~g: unknown getter {name!r} (known: {', '.join(GETTERS)})")
            return
        try:
            answer = driver.get(name)
        except (CommandRejected, ParseError, CommandTimeout, NotImplementedError) as err:
            self._screen.show(f"~g {name}: {REDACTOR.scrub(str(err))}")
            return
        self._screen.show(f"{name}:\n{table(answer)}")

    def _backup(self, driver: Driver) -> None:
        """The programming data to ``backup.txt`` (the first) or ``backup-N.txt``."""
        number = len(self.record.backups) + 1
        path = self.folder / ("backup.txt" if number == 1 else f"backup-{number}.txt")
        try:
            text = driver.backup()
        except (CommandRejected, ParseError, CommandTimeout, NotImplementedError) as err:
            self._screen.note(f"backup not taken: {REDACTOR.scrub(str(err))}")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(REDACTOR.scrub(text), encoding="utf-8")
        os.replace(tmp, path)
        self.record.backups.append(str(path))
        self._screen.note(f"backup saved: {path}")
        # Kept in the site's backup history too, so `backups diff` and the pack see it.
        revision, new = history_for(self.data_dir, self.site.id).store(
            REDACTOR.scrub(text), source="console session", vendor=self.site.vendor,
            run_id=self.record.session_id)
        if new:
            self._screen.note(f"backup history: revision r{revision.number}")

