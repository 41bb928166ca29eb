"""An emulated Hayes modem on a pty, dialling simulated PBXs from a phone book.

The client opens the modem's device as a serial port and talks AT commands to it; a
dialled number reaches a simulated site (its console with the login dialogue, as a
Panasonic RMT card presents it) or the outcome the phone book was told to give. This
module is the firmware (AT command interpreter, dialling, ringing, escape, carrier,
hang-up); the phone book is ``phonebook.py``, the Hayes tables ``at_commands.py``.

What a pty cannot carry, and what is done instead (see docs/reliability.md):

- **DCD** (carrier detect): pyserial's ``cd`` needs ``TIOCMGET``, which a pty refuses.
  The modem reports carrier loss in band (``NO CARRIER``, as a real modem does) and
  also writes its state — ``{"dcd": …, "off_hook": …, "mode": …}`` — to a small JSON
  *status file* (``status_path``), replaced atomically on every change, which the modem
  transport polls (``carrier_file=`` in the URL) where a real port would read DCD.
- **DTR**: a pty has no DTR line either. Closing the port is the hang-up (the kernel
  tells the master, see ``wires.PtyWire``), as is ``ATH0``.

Every off-hook and on-hook is recorded in ``events`` with the reason, so a test can
assert "the modem is back on-hook" (``wait_on_hook``).
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from simulators.lines.at_commands import (
    BUSY,
    CONNECT,
    CONNECT_CODES,
    ERROR,
    MAX_COMMAND,
    NO_ANSWER,
    NO_CARRIER,
    NO_DIALTONE,
    OK,
    RESULT_TEXT,
    RING,
    UNPACED_CONNECT_SPEED,
    CommandError,
    Settings,
    read_number,
)
from simulators.lines.conditions import LineStats
from simulators.lines.phonebook import Outcome, PhoneBook, Site
from simulators.lines.pump import LineGroup, LineHandler
from simulators.lines.wires import PtyWire
from simulators.ssh_server import ConsoleSession

RING_INTERVAL = 3.0  # seconds between RINGs (one per UK ring cadence)
MAX_RINGS = 10  # the caller gives up after this many unanswered rings

# --- the modem ----------------------------------------------------------------------------


class Mode(enum.StrEnum):
    COMMAND = "command"
    DIALING = "dialing"
    ONLINE = "online"
    ONLINE_COMMAND = "online-command"  # escaped with +++, call still up


@dataclass(frozen=True, slots=True)
class ModemEvent:
    at: float  # monotonic
    kind: str  # "off-hook" | "connect" | "escape" | "on-hook"
    detail: str


class HayesModem(LineHandler):
    """The modem's firmware: AT commands, dialling, +++ escape, carrier, hang-up."""

    def __init__(self, phone_book: PhoneBook, status_path: Path) -> None:
        self.phone_book = phone_book
        self.status_path = status_path
        self._settings = Settings()
        self._mode = Mode.COMMAND
        self._line = bytearray()
        self._session: ConsoleSession | None = None
        self._speed = UNPACED_CONNECT_SPEED
        self._dial_deadline: float | None = None
        self._dial_result: tuple[int, Site | None] | None = None
        self._last_rx = 0.0
        self._plus_count = 0
        self._last_plus = 0.0
        self._escape_at: float | None = None
        self._ring_at: float | None = None
        self._ringing: tuple[Site | None, float] | None = None
        self._rings = 0
        self._cond = threading.Condition()
        self._off_hook = False
        self._carrier = False
        self.events: list[ModemEvent] = []
        self._write_status()

    # --- what tests observe (any thread) ------------------------------------------------

    @property
    def off_hook(self) -> bool:
        with self._cond:
            return self._off_hook

    @property
    def carrier(self) -> bool:
        with self._cond:
            return self._carrier

    @property
    def mode(self) -> Mode:
        return self._mode

    def event_kinds(self) -> list[str]:
        with self._cond:
            return [e.kind for e in self.events]

    def wait_on_hook(self, timeout: float) -> bool:
        """True once the modem is on-hook (no call held); False at the deadline."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._off_hook, timeout)

    def wait_for(self, kind: str, timeout: float, count: int = 1) -> bool:
        """True once ``count`` events of ``kind`` have happened; False at the deadline."""
        with self._cond:
            return self._cond.wait_for(
                lambda: sum(e.kind == kind for e in self.events) >= count, timeout)

    def register(self, number: int) -> int:
        return self._settings.registers.get(number, 0)

    # --- what tests do to the modem (any thread; run on the modem's own thread) ---------

    def ring(self, caller: str, *, interval: float = RING_INTERVAL) -> None:
        """An incoming call from phone-book number ``caller``: RING until ``ATA`` or S0."""
        self.pump.call_soon(lambda: self._incoming(caller, interval))

    def drop_carrier(self) -> None:
        """The far end vanishes mid-call (what ``drop_after_*`` does on a schedule)."""
        self.pump.call_soon(self.pump.drop_carrier)

    # --- state changes ------------------------------------------------------------------

    def _record(self, kind: str, detail: str, *, off_hook: bool | None = None,
                carrier: bool | None = None) -> None:
        with self._cond:
            self.events.append(ModemEvent(time.monotonic(), kind, detail))
            if off_hook is not None:
                self._off_hook = off_hook
            if carrier is not None:
                self._carrier = carrier
            self._write_status()  # before waking waiters: they may read the file next
            self._cond.notify_all()

    def _write_status(self) -> None:
        status = {"dcd": self._carrier, "off_hook": self._off_hook, "mode": self._mode.value}
        fd, tmp = tempfile.mkstemp(dir=self.status_path.parent, prefix=".modem-")
        with os.fdopen(fd, "w") as out:
            json.dump(status, out)
        os.replace(tmp, self.status_path)

    def _set_mode(self, mode: Mode) -> None:
        self._mode = mode
        self._write_status()

    def _go_on_hook(self, reason: str) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()
        self._dial_deadline = self._dial_result = self._escape_at = None
        self._ring_at = self._ringing = None
        self.pump.end_call()
        self._set_mode(Mode.COMMAND)
        if self._off_hook:
            self._record("on-hook", reason, off_hook=False, carrier=False)

    # --- output to the DTE --------------------------------------------------------------

    def _result(self, code: int, text: str | None = None) -> None:
        s = self._settings
        if s.quiet:
            return
        if s.verbose:
            self.pump.send_local(b"\r\n" + (text or RESULT_TEXT[code]).encode() + b"\r\n")
        else:
            self.pump.send_local(f"{code}\r".encode())

    def _info(self, text: str) -> None:
        if self._settings.verbose:
            self.pump.send_local(b"\r\n" + text.encode() + b"\r\n")
        else:
            self.pump.send_local(text.encode() + b"\r\n")

    def _connect_result(self) -> None:
        if self._settings.x_level == 0:
            self._result(CONNECT)
        else:
            self._result(CONNECT_CODES.get(self._speed, CONNECT), f"CONNECT {self._speed}")

    # --- input from the DTE -------------------------------------------------------------

    def on_connect(self) -> None:
        self._line.clear()

    def on_data(self, data: bytes) -> None:
        if self._mode is Mode.ONLINE:
            self._online_data(data)
        elif self._mode is Mode.DIALING:
            self._abort_dial()  # any key aborts dialling, as on every Hayes modem
        else:
            for byte in data:
                self._command_byte(byte)

    def _online_data(self, data: bytes) -> None:
        now = time.monotonic()
        guard = self.register(12) / 50.0
        escape = self.register(2)
        for byte in data:
            if byte == escape and escape < 128 and (
                    (self._plus_count == 0 and now - self._last_rx >= guard)
                    or (0 < self._plus_count < 3 and now - self._last_plus <= guard)):
                self._plus_count += 1
                self._last_plus = now
            else:
                self._plus_count = 0
            self._last_rx = now
        self._escape_at = now + guard if self._plus_count == 3 else None
        if self._session is not None:
            self._session.feed(self.pump.noisy_to_pbx(data))
            if self._session.closed:
                self._session = None
                self.pump.when_line_drained(lambda: self._remote_hung_up("the PBX hung up"))

    def _command_byte(self, byte: int) -> None:
        s = self._settings
        if byte == s.registers[3]:
            if s.echo:
                self.pump.send_local(bytes((byte,)))
            text = self._line.decode("ascii", "replace")
            self._line.clear()
            self._command_line(text)
        elif byte == s.registers[5]:
            if self._line:
                self._line.pop()
                if s.echo:
                    self.pump.send_local(b"\b \b")
        elif byte == s.registers[4] or byte < 32 or byte > 126:
            pass
        else:
            if s.echo:
                self.pump.send_local(bytes((byte,)))
            self._line.append(byte)

    def _command_line(self, text: str) -> None:
        attention = text.upper().find("AT")
        if attention < 0:
            return  # not addressed to the modem: ignored, no result code
        body = text[attention + 2:].strip()  # what came before "AT" is discarded
        if len(body) > MAX_COMMAND:
            self._result(ERROR)
            return
        try:
            final = self._execute(body)
        except CommandError:
            self._result(ERROR)
            return
        if final is not None:
            self._result(final)

    def _execute(self, body: str) -> int | None:
        """Run the commands of one AT line; the result code to print (None: printed)."""
        i = 0
        while i < len(body):
            letter = body[i].upper()
            i += 1
            if letter == " ":
                continue
            if letter == "D":
                self._dial(body[i:])
                return None
            if letter == "S":
                i = self._s_register(body, i)
                continue
            if letter == "&":
                if i >= len(body) or not body[i].isalpha():
                    raise CommandError
                i, _ = read_number(body, i + 1)
                continue
            i, value = read_number(body, i)
            if letter in "OA":
                return self._online(letter)
            self._simple(letter, value)
        return OK

    def _simple(self, letter: str, value: int) -> None:
        s = self._settings
        if letter == "E" and value in (0, 1):
            s.echo = bool(value)
        elif letter == "V" and value in (0, 1):
            s.verbose = bool(value)
        elif letter == "Q" and value in (0, 1):
            s.quiet = bool(value)
        elif letter == "X" and 0 <= value <= 4:
            s.x_level = value
        elif letter == "Z" and value in (0, 1):
            self._reset()
        elif letter == "H" and value in (0, 1):
            self._hook(value)
        elif letter == "I":
            self._info("pbxdiag Hayes modem emulator")
        elif letter not in "LM":  # speaker volume and control: accepted, nothing to do
            raise CommandError

    def _reset(self) -> None:
        if self._mode is Mode.ONLINE_COMMAND or self._off_hook:
            self._go_on_hook("ATZ")
        self._settings = Settings()

    def _hook(self, value: int) -> None:
        if value == 0:
            self._go_on_hook("ATH0")
        elif not self._off_hook:
            self._record("off-hook", "ATH1", off_hook=True)

    def _s_register(self, body: str, i: int) -> int:
        i, number = read_number(body, i)
        if number > 255 or i >= len(body):
            raise CommandError
        if body[i] == "?":
            self._info(f"{self.register(number):03d}")
            return i + 1
        if body[i] != "=":
            raise CommandError
        i, value = read_number(body, i + 1)
        if value > 255:
            raise CommandError
        self._settings.registers[number] = value
        return i

    def _online(self, letter: str) -> int | None:
        if letter == "A":
            return self._answer("ATA")
        if self._mode is not Mode.ONLINE_COMMAND:
            return NO_CARRIER
        self._set_mode(Mode.ONLINE)
        self.pump.hold_line(False)
        self._last_rx = time.monotonic()
        self._plus_count = 0
        self._connect_result()
        return None

    # --- dialling -----------------------------------------------------------------------

    def _dial(self, dial_string: str) -> None:
        number = PhoneBook.normalise(dial_string)
        if not number or self._mode is Mode.ONLINE_COMMAND:
            raise CommandError
        outcome, site = self.phone_book.dial(number)
        self._record("off-hook", f"ATD{dial_string.strip()}", off_hook=True)
        self._set_mode(Mode.DIALING)
        now = time.monotonic()
        wait_for_carrier = float(self.register(7))
        x = self._settings.x_level
        if outcome is Outcome.NO_DIALTONE and x in (2, 4):
            self._schedule(now, NO_DIALTONE)
        elif outcome is Outcome.BUSY and x in (3, 4):
            self._schedule(now, BUSY)
        elif outcome is Outcome.ANSWER and site is not None and site.pbx.responding \
                and site.answer_after < wait_for_carrier:  # a dead PBX's modem never answers
            self._schedule(now + site.answer_after, CONNECT, site)
        else:  # rings out (or blind-dialled into busy / silence): S7 expires
            self._schedule(now + wait_for_carrier, NO_ANSWER if x == 4 else NO_CARRIER)

    def _schedule(self, at: float, code: int, site: Site | None = None) -> None:
        self._dial_deadline = at
        self._dial_result = (code, site)

    def _abort_dial(self) -> None:
        self._go_on_hook("dial aborted by a keystroke")
        self._result(NO_CARRIER)

    def _dial_finished(self) -> None:
        assert self._dial_result is not None
        code, site = self._dial_result
        self._dial_deadline = self._dial_result = None
        if code != CONNECT or site is None:
            self._go_on_hook(f"dial failed: {RESULT_TEXT[code]}")
            self._result(code)
            return
        self._answered(site)

    def _answered(self, site: Site) -> None:
        self.pump.begin_call(site.conditions)
        self._speed = site.conditions.baud or UNPACED_CONNECT_SPEED
        self._set_mode(Mode.ONLINE)
        self._last_rx = time.monotonic()
        self._plus_count = 0
        self._record("connect", f"CONNECT {self._speed}", carrier=True)
        self._connect_result()
        self._session = site.make_session(self._from_pbx)
        self._session.start()

    def _from_pbx(self, data: bytes) -> None:
        self.pump.send_line(self.pump.noisy_to_client(data))

    # --- incoming calls ---------------------------------------------------------------

    def _incoming(self, caller: str, interval: float) -> None:
        if self._mode is not Mode.COMMAND or self._off_hook or self._ringing is not None:
            return  # we are busy: the caller hears the busy tone
        self._ringing = (self.phone_book.site(caller), interval)
        self._rings = 0
        self._ring_at = time.monotonic()

    def _ring(self, now: float) -> None:
        assert self._ringing is not None
        self._rings += 1
        self._result(RING)
        auto_answer = self.register(0)
        if auto_answer and self._rings >= auto_answer:
            code = self._answer(f"auto-answer after {self._rings} rings (S0={auto_answer})")
            if code is not None:
                self._result(code)
        elif self._rings >= MAX_RINGS:
            self._ring_at = self._ringing = None
        else:
            self._ring_at = now + self._ringing[1]

    def _answer(self, reason: str) -> int | None:
        if self._ringing is None:
            return NO_CARRIER
        site = self._ringing[0]
        self._ring_at = self._ringing = None
        self._record("off-hook", reason, off_hook=True)
        if site is None:
            self._go_on_hook("answered a caller with no carrier")
            return NO_CARRIER
        self._answered(site)
        return None

    # --- timers -------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        times = [t for t in (self._dial_deadline, self._escape_at, self._ring_at)
                 if t is not None]
        return min(times) if times else None

    def on_timer(self, now: float) -> None:
        if self._ring_at is not None and now >= self._ring_at:
            self._ring(now)
        if self._dial_deadline is not None and now >= self._dial_deadline:
            self._dial_finished()
        if self._escape_at is not None and now >= self._escape_at:
            self._escape_at = None
            self._plus_count = 0
            self._set_mode(Mode.ONLINE_COMMAND)
            self.pump.hold_line(True)
            self._record("escape", "+++")
            self._result(OK)

    # --- the call ending ----------------------------------------------------------------

    def _remote_hung_up(self, reason: str) -> None:
        if self._mode in (Mode.ONLINE, Mode.ONLINE_COMMAND):
            self._go_on_hook(reason)
            self._result(NO_CARRIER)

    def on_carrier_lost(self) -> None:
        if self._mode in (Mode.ONLINE, Mode.ONLINE_COMMAND):
            self._go_on_hook("carrier lost")
            self._result(NO_CARRIER)

    def on_hangup(self) -> None:
        """The DTE closed the port: DTR dropped, so the modem hangs up (``&D2``)."""
        self._line.clear()
        self._go_on_hook("DTR dropped (port closed)")

    def on_close(self) -> None:
        self._go_on_hook("modem switched off")


# --- serving ------------------------------------------------------------------------------


class ModemEndpoint(NamedTuple):
    """What ``serve_modem`` yields: the device a client opens, and the modem to inspect."""

    device: str
    modem: HayesModem


class ModemLine:
    """One emulated modem on its own pty, with its status file."""

    def __init__(self, phone_book: PhoneBook, *, state_dir: Path | None = None) -> None:
        self._tmp = None if state_dir is not None else tempfile.TemporaryDirectory(
            prefix="pbxdiag-modem-")
        folder = state_dir if state_dir is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        folder.mkdir(parents=True, exist_ok=True)
        self.lines = LineGroup()
        wire = PtyWire()
        self.device = wire.device
        self.modem = HayesModem(phone_book,
                                folder / f"modem-{self.device.rsplit('/', 1)[-1]}.json")
        self.lines.spawn(wire, self.modem, name=f"modem-{self.device.rsplit('/', 1)[-1]}")

    @property
    def status_path(self) -> Path:
        return self.modem.status_path

    @property
    def stats(self) -> LineStats:
        return self.lines.stats

    def close(self) -> None:
        self.lines.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


@contextlib.contextmanager
def serve_modem(phone_book: PhoneBook, *,
                state_dir: Path | None = None) -> Iterator[ModemEndpoint]:
    """Serve one emulated modem for the ``with`` block: yields (device path, modem)."""
    line = ModemLine(phone_book, state_dir=state_dir)
    try:
        yield ModemEndpoint(line.device, line.modem)
    finally:
        line.close()
