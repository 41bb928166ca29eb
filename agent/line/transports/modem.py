"""Hayes modem line: initialise, dial, watch the carrier, and always hang up.

A modem left off-hook holds the customer's line (and our phone bill) until someone
notices, so ``close()`` hangs up on every exit path — normal end, error, or
``KeyboardInterrupt`` — in three independent steps: ``+++`` with guard times back to
command mode, ``ATH0``, and DTR dropped; whatever fails, the port is closed last (which
on most modems, with ``&D2``, is a hang-up of its own). ``open()`` closes on failure.

Waits are on the serial port with deadlines. Two timed waits are deliberate and are
``Event.wait(timeout)`` calls: the ``+++`` guard time (the modem only recognises the
escape after a silence, so the silence is the protocol), and the back-off between dial
attempts, which ``cancel()`` interrupts.

Carrier is watched for the whole call: ``NO CARRIER`` in the stream (verbose result
codes), DCD from the port where the port can report it, or a status file written by a
modem that cannot raise DCD on a pseudo-terminal (``carrier_file``, see
docs/reliability.md) — any of them raises ``LineDropped``.
"""

from __future__ import annotations

import enum
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import serial
import structlog

from agent.line.errors import (
    ConnectFailed,
    ConnectionProblem,
    InputError,
    LineBusy,
    LineDropped,
    NoAnswer,
    NoCarrier,
    NoDialTone,
)
from agent.line.transports.base import Transport
from agent.line.transports.options import LineRequest
from agent.line.transports.serial import SerialSettings, SerialTransport, serial_settings

log = structlog.get_logger(__name__)

DEFAULT_INIT = ("ATZ", "ATE0V1Q0X4")
NO_CARRIER_MARK = b"\r\nNO CARRIER\r\n"
#: ``NO CARRIER`` with numeric result codes (``ATV0``, common on modem banks) is only
#: ``3<CR>`` — then nothing, since the call is gone. A PBX's own text can end "…3<CR>"
#: too (LF to follow, or more output), so it counts only when the line then stays silent
#: for ``NUMERIC_NO_CARRIER_SILENCE`` seconds.
_NUMERIC_NO_CARRIER = re.compile(rb"(?<![0-9])3\r\Z")
NUMERIC_NO_CARRIER_SILENCE = 0.3

#: Result words (``V1``) and their numeric forms (``V0``).
WORDS = {"OK": 0, "CONNECT": 1, "RING": 2, "NO CARRIER": 3, "ERROR": 4, "NO DIALTONE": 6,
         "NO DIAL TONE": 6, "BUSY": 7, "NO ANSWER": 8}
NUMERIC = {0: "OK", 1: "CONNECT", 2: "RING", 3: "NO CARRIER", 4: "ERROR", 6: "NO DIALTONE",
           7: "BUSY", 8: "NO ANSWER"}
#: ``CONNECT <speed>`` numeric codes (USRobotics / Hayes table). Vendors extend it, so any
#: other code from 9 up is still read as a CONNECT, of unknown speed.
CONNECT_SPEEDS = {5: 1200, 9: 600, 10: 2400, 11: 4800, 12: 9600, 13: 7200, 14: 12000,
                  15: 14400, 16: 19200, 17: 38400, 18: 57600, 19: 115200}
_NUMERIC_LINE = re.compile(r"0|[1-9][0-9]?")
_CONNECT_LINE = re.compile(r"CONNECT(?:\s+(\d+))?\b.*")
#: ``ERROR`` alone, or with the modem's reason (``ERROR: invalid command``, ``ERROR 3``).
_ERROR_LINE = re.compile(r"ERROR\b.*")

FAILURES: dict[str, type[ConnectFailed]] = {
    "BUSY": LineBusy, "NO ANSWER": NoAnswer, "NO DIALTONE": NoDialTone,
    "NO CARRIER": NoCarrier,
}
RETRYABLE = (LineBusy, NoAnswer, NoDialTone, NoCarrier)


@dataclass(frozen=True, slots=True)
class ResultCode:
    word: str  # canonical verbose word: "OK", "CONNECT", "BUSY", ...
    speed: int | None = None  # CONNECT only, when the modem said
    raw: str = ""


def parse_result(line: str) -> ResultCode | None:
    """A result code in either form, or None (echo, an S-register value, PBX output)."""
    text = line.strip()
    if _NUMERIC_LINE.fullmatch(text):  # S-register values are 3 digits: never a result
        code = int(text)
        if code in NUMERIC:
            return ResultCode(NUMERIC[code], raw=text)
        if code >= 5:
            return ResultCode("CONNECT", CONNECT_SPEEDS.get(code), raw=text)
        return None
    return _verbose_result(text)


def _verbose_result(text: str) -> ResultCode | None:
    upper = text.upper()
    connect = _CONNECT_LINE.fullmatch(upper)
    if connect:
        return ResultCode("CONNECT", int(connect[1]) if connect[1] else None, raw=text)
    if upper in WORDS:
        return ResultCode("NO DIALTONE" if upper == "NO DIAL TONE" else upper, raw=text)
    if _ERROR_LINE.fullmatch(upper):
        return ResultCode("ERROR", raw=text)
    return None


class ResultParser:
    """Finds result codes in the modem's output, whole lines only, split reads welcome."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def clear(self) -> None:
        self._buffer.clear()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_result(self) -> ResultCode | None:
        """The next complete result line (consumed with everything before it), or None."""
        while True:
            end = _line_end(self._buffer)
            if end < 0:
                return None
            line = self._buffer[:end].decode("ascii", "replace")
            cut = end + 1
            if self._buffer[end:end + 2] == b"\r\n":
                cut += 1
            del self._buffer[:cut]
            result = parse_result(line)
            if result is not None:
                return result

    def rest(self) -> bytes:
        """Everything after the last result consumed (data after CONNECT)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def _line_end(buffer: bytearray) -> int:
    ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
    return min(ends) if ends else -1


class _State(enum.Enum):
    CLOSED = enum.auto()
    COMMAND = enum.auto()
    DIALING = enum.auto()
    ONLINE = enum.auto()


@dataclass(frozen=True, slots=True)
class ModemOptions:
    number: str
    init: Sequence[str] = DEFAULT_INIT
    pulse: bool = False
    retries: int = 2
    backoff: float = 5.0  # seconds before the first redial; doubles each time
    dial_timeout: float = 60.0  # the modem's own S7 must expire before this
    command_timeout: float = 5.0
    guard: float = 1.0  # the modem's S12 guard time, in seconds
    carrier_file: Path | None = None
    carrier_poll: float = 0.25
    #: Line time for reaching the PBX on this path, every attempt and back-off included:
    #: a dead PBX or a number nobody answers must not hold the run for S7 × attempts.
    line_time: float = 60.0


class ModemTransport(Transport):
    """A modem on a serial port, dialling one number (see the module docstring)."""

    def __init__(self, *, device: str, options: ModemOptions,
                 settings: SerialSettings | None = None) -> None:
        super().__init__()
        if not options.number:
            raise ConnectFailed("a modem line needs a number to dial")
        self.device = device
        self.options = options
        self._serial = SerialTransport(port_url=device, display_url=f"serial://{device}",
                                       settings=settings or SerialSettings(), exclusive=True)
        self._parser = ResultParser()
        self._state = _State.CLOSED
        self._cancel = threading.Event()
        self._pending = b""
        self._skip_lf = False
        self._tail = b""
        self._dropped: str | None = None
        self._numeric = False  # the modem answers with numeric result codes (V0)
        self._suspect_since: float | None = None  # when a "3<CR>" ended the stream
        self._watch_dcd = False
        self.connect_speed: int | None = None
        self.attempts = 0

    @property
    def display_url(self) -> str:
        return f"modem://{self.device}?number={self.options.number}"

    def cancel(self) -> None:
        """Stop redialling (from another thread): the back-off wait ends at once."""
        self._cancel.set()

    # --- connecting -------------------------------------------------------------------

    def open(self) -> None:
        try:
            self._serial.open()
            self._state = _State.COMMAND
            self._connect_with_retries()
        except BaseException:
            self.close()
            raise

    def _connect_with_retries(self) -> None:
        """Dial, and redial with back-off, within the path's line time (``line_time``)
        and the run's own deadline for reaching the PBX (``reach_by``), whichever is first.
        Each attempt is logged as it happens (on a terminal too: it is a warning)."""
        deadline = time.monotonic() + self.options.line_time
        if self.reach_by is not None:
            deadline = min(deadline, self.reach_by)
        for attempt in range(self.options.retries + 1):
            self.attempts = attempt + 1
            log.warning("modem dialling", url=self.display_url, attempt=attempt + 1,
                        of=self.options.retries + 1)
            try:
                self._initialise()
                self._dial(deadline)
                return
            except RETRYABLE as err:
                delay = self.options.backoff * 2 ** attempt
                spent = time.monotonic() + delay >= deadline
                if attempt == self.options.retries or spent:
                    why = "; its line time is spent" if spent and \
                        attempt < self.options.retries else ""
                    raise type(err)(f"{err} (after {attempt + 1} attempt"
                                    f"{'s' * (attempt > 0)}{why})") from None
                log.warning("modem dial failed, redialling", url=self.display_url,
                            error=str(err), attempt=attempt + 1, backoff_s=delay)
                if self._cancel.wait(delay):
                    raise ConnectFailed(f"redial of {self.display_url} cancelled") from err

    def _initialise(self) -> None:
        for command in self.options.init:
            result = self._command(command, self.options.command_timeout)
            if result is None:
                raise ConnectFailed(f"no answer from the modem on {self.device} to {command!r}"
                                    " (is it powered and connected?)")
            if result.word != "OK":
                said = result.raw if result.raw and result.raw != result.word else result.word
                raise ConnectFailed(f"the modem on {self.device} answered {said} "
                                    f"to {command!r}")

    def _dial(self, deadline: float) -> None:
        command = f"ATD{'P' if self.options.pulse else 'T'}{self.options.number}"
        self._state = _State.DIALING
        wait = max(1.0, min(self.options.dial_timeout, deadline - time.monotonic()))
        result = self._command(command, wait)
        if result is None:
            self._abort_dial()
            raise NoAnswer(f"no result from the modem within {wait:g}s "
                           f"of dialling {self.options.number}")
        if result.word == "CONNECT":
            self._online(result)
            return
        self._state = _State.COMMAND
        failure = FAILURES.get(result.word, ConnectFailed)
        raise failure(f"dialling {self.options.number} on {self.device}: {result.word}")

    def _online(self, result: ResultCode) -> None:
        self._state = _State.ONLINE
        self.connect_speed = result.speed
        self._pending = self._parser.rest()
        self._skip_lf = True  # the LF of "CONNECT 9600\r\n" may still be on its way
        self._tail = b"\r"  # the call's output starts on a fresh line
        self._dropped = None
        self._numeric = result.raw.isdigit()
        self._suspect_since = None
        self._watch_dcd = self._dcd_usable()
        log.info("modem connected", url=self.display_url, speed=result.speed)

    def _dcd_usable(self) -> bool:
        """Whether DCD can be trusted: the port reports it and it is up right now."""
        if self.options.carrier_file is not None:
            return False
        try:
            return bool(self._serial.port.cd)
        except (OSError, serial.SerialException):
            return False  # a pty, or a cable without DCD: NO CARRIER in band only

    def _abort_dial(self) -> None:
        """Any character aborts a dial in progress; the modem answers NO CARRIER."""
        self._serial.write(b"\r")
        self._await_result(self.options.command_timeout)
        self._state = _State.COMMAND

    def _command(self, command: str, timeout: float) -> ResultCode | None:
        self._parser.clear()
        self._serial.write(command.encode("ascii") + b"\r")
        return self._await_result(timeout)

    def _await_result(self, timeout: float) -> ResultCode | None:
        """The next result code (RING skipped) before the deadline, or None."""
        deadline = time.monotonic() + timeout
        while True:
            result = self._parser.next_result()
            if result is not None and result.word != "RING":
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._parser.feed(self._serial.read(4096, remaining))

    # --- the call ---------------------------------------------------------------------

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        self._require_online()
        if self._pending:
            data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
            return self._scan(data)
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            watching = self._watch_dcd or self.options.carrier_file is not None \
                or self._suspect_since is not None
            wait = min(remaining, self.options.carrier_poll) if watching else remaining
            data = self._serial.read(max_bytes, wait)
            if data:
                scanned = self._scan(data)
                if scanned:
                    return scanned
            self._check_carrier()
            if remaining <= 0:
                return b""

    def _scan(self, data: bytes) -> bytes:
        """Pass data through, watching for the modem's NO CARRIER across reads."""
        if self._skip_lf:
            self._skip_lf = False
            if data.startswith(b"\n"):
                data = data[1:]
        window = self._tail + data
        found = window.find(NO_CARRIER_MARK)
        if found >= 0:
            self._lost("the modem reported NO CARRIER")
            before = data[:max(0, found - len(self._tail))]
            if before:
                return before  # delivered first; the next read raises
            raise LineDropped(f"carrier lost on {self.display_url}: {self._dropped}")
        self._tail = window[-(len(NO_CARRIER_MARK) - 1):]
        if self._numeric:  # new data: a "3<CR>" only counts if it ends the stream
            suspect = data and _NUMERIC_NO_CARRIER.search(window) is not None
            self._suspect_since = time.monotonic() if suspect else None
        return data

    def _check_carrier(self) -> None:
        if self._suspect_since is not None \
                and time.monotonic() - self._suspect_since >= NUMERIC_NO_CARRIER_SILENCE:
            self._lost("the modem reported NO CARRIER (result code 3)")
        elif self.options.carrier_file is not None and not _file_dcd(self.options.carrier_file):
            self._lost("DCD dropped (modem status file)")
        elif self._watch_dcd and not self._port_dcd():
            self._lost("DCD dropped")
        self._require_online()

    def _port_dcd(self) -> bool:
        try:
            return bool(self._serial.port.cd)
        except (OSError, serial.SerialException):
            return True  # cannot tell: rely on NO CARRIER in band

    def _lost(self, reason: str) -> None:
        self._dropped = reason
        self._state = _State.COMMAND  # the modem has gone back to command mode itself

    def _require_online(self) -> None:
        if self._dropped is not None:
            raise LineDropped(f"carrier lost on {self.display_url}: {self._dropped}")
        if self._state is not _State.ONLINE:
            raise LineDropped(f"{self.display_url} is not connected")

    def _write(self, data: bytes) -> None:
        self._require_online()
        self._serial.write(data)

    # --- hanging up -------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self._state is _State.ONLINE

    def close(self) -> None:
        """Hang up (``+++``, ``ATH0``, DTR) and release the port; safe to call twice."""
        if self._state is _State.CLOSED and not self._serial.is_open:
            return
        try:
            self._hang_up()
        finally:
            try:
                self._drop_dtr()
            finally:
                self._state = _State.CLOSED
                self._serial.close()

    def _hang_up(self) -> None:
        try:
            if self._state is _State.ONLINE:
                self._escape()
            elif self._state is _State.DIALING:
                self._abort_dial()
            if self._state is not _State.CLOSED:
                result = self._command("ATH0", self.options.command_timeout)
                if result is None or result.word != "OK":
                    log.warning("modem did not confirm ATH0", url=self.display_url,
                                result=None if result is None else result.word)
        except (ConnectionProblem, OSError, serial.SerialException) as err:
            log.warning("modem hang-up step failed; dropping DTR and closing the port",
                        url=self.display_url, error=str(err))

    def _escape(self) -> None:
        """``+++`` framed by silence: back to command mode with the call still up."""
        guard = self.options.guard * 1.1 + 0.05  # the modem measures from its last byte
        if self._carrier_gone():
            self._state = _State.COMMAND  # the far end hung up first (BYE, NO CARRIER)
            return
        if self._listen_through_guard(guard):  # ...or while we kept quiet
            self._state = _State.COMMAND
            return
        self._parser.clear()
        self._serial.write(b"+++")
        result = self._await_result(guard + self.options.command_timeout)
        if result is None or result.word != "OK":
            log.warning("modem did not confirm +++", url=self.display_url)
        self._state = _State.COMMAND

    def _listen_through_guard(self, guard: float) -> bool:
        """Stay silent for the guard time, listening: True as soon as the far end hangs up.

        A PBX usually ends the call itself after the logout; hearing its NO CARRIER (or the
        carrier file dropping) ends the wait at once instead of after the whole guard time.
        """
        deadline = time.monotonic() + guard
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                data = self._serial.read(4096, min(remaining, self.options.carrier_poll))
                if data:
                    self._scan(data)  # discarded: nobody reads the session any more
                self._check_carrier()
            except LineDropped:
                return True
            if self._dropped is not None:
                return True
        return self._carrier_gone()

    def _carrier_gone(self) -> bool:
        """Read what has arrived (without waiting) and check the carrier once more."""
        try:
            while self._dropped is None:
                data = self._serial.read(4096, 0.0)
                if not data:
                    break
                self._scan(data)  # discarded: nobody reads the session any more
            self._check_carrier()
        except LineDropped:
            return True
        return False

    def _drop_dtr(self) -> None:
        try:
            self._serial.port.dtr = False
        except LineDropped:
            return  # never opened
        except (OSError, serial.SerialException) as err:
            log.debug("cannot drop DTR; closing the port is the hang-up",
                      url=self.display_url, error=str(err))


def _file_dcd(path: Path) -> bool:
    """DCD from a modem status file (``{"dcd": true, ...}``); unreadable counts as up."""
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return bool(status.get("dcd", True)) if isinstance(status, dict) else True


def from_url(line: LineRequest) -> Transport:
    """``modem:///dev/ttyUSB0?number=...``: the dialling options, then the port's own."""
    opts = line.options
    device = line.device()
    number = opts.text("number")
    if not number:
        raise InputError(f"modem URL needs the number to dial (?number=...): {opts.url}")
    dial = (opts.text("dial", "tone") or "tone").lower()
    if dial not in ("tone", "pulse"):
        raise InputError(f"option dial={dial!r} in {opts.url}: expected tone or pulse")
    options = ModemOptions(
        number=number, init=opts.texts("init", DEFAULT_INIT), pulse=dial == "pulse",
        retries=opts.integer("retries", 2), backoff=opts.number("backoff", 5.0),
        dial_timeout=opts.number("dial_timeout", 60.0, minimum=1.0),
        command_timeout=opts.number("command_timeout", 5.0, minimum=0.1),
        guard=opts.number("guard", 1.0), carrier_file=opts.path("carrier_file"),
        carrier_poll=opts.number("carrier_poll", 0.25, minimum=0.01),
        line_time=opts.number("line_time", 60.0, minimum=1.0))
    return ModemTransport(device=device, options=options, settings=serial_settings(opts))
