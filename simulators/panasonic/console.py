"""The Panasonic maintenance console (docs/dialects/panasonic.md) as a transport-free session.

Bytes in through ``feed``, bytes out through ``send``: the same object serves SSH, telnet,
a pseudo-terminal or a modem line, so every transport shows byte-for-byte the same
dialect. Input is handled one byte at a time, so any split of the input gives the same
output, and no input (noise, binary, an over-long line) can raise.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from datetime import datetime

from simulators.state import Card as CardRecord
from simulators.state import CoLine, Extension, LogEntry, PbxState

CR, LF, BS, DEL, SPACE = 0x0D, 0x0A, 0x08, 0x7F, 0x20
CRLF = b"\r\n"
PAGER_PROMPT = b"-- More -- "
PAGER_ERASE = b"\r" + b" " * len(PAGER_PROMPT) + b"\r"
BACKSPACE_ECHO = b"\b \b"
MAX_LINE = 256
DEFAULT_PAGE_LINES = 20
MAX_LOGIN_ATTEMPTS = 3
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

CARD_HEADER = "CAB SLT CARD     MODEL        FIRMWARE STATUS"
CO_HEADER = "CO  CAB SLT PRT KIND STATUS"
EXT_HEADER = "EXT   CAB SLT PRT TYPE NAME             STATUS"


class ConsoleError(Exception):
    """An error reply: one line ``ERROR nn: TEXT``, then the prompt."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"ERROR {code:02d}: {text}")
        self.line = f"ERROR {code:02d}: {text}"


UNKNOWN_COMMAND = (1, "UNKNOWN COMMAND")
INVALID_PARAMETER = (2, "INVALID PARAMETER")
LINE_TOO_LONG = (2, "LINE TOO LONG")


# --- rendering (pure functions of state records) ------------------------------------------


def _two(n: int) -> str:
    return f"{n:02d}"


def format_log_entry(e: LogEntry) -> str:
    """The published error-log / SMDR alarm line: 4 spaces after the time."""
    return f"{e.when:%d/%m/%y %H:%M}    {e.level} ALM #{e.code:03d} 00 {e.sub_code} {e.message}"


def format_card(c: CardRecord) -> str:
    return (f"{c.cabinet:>3} {_two(c.slot):>3} {c.card_type:<8} {c.model_number:<12} "
            f"{c.firmware:<8} {c.status}")


def format_co_line(x: CoLine) -> str:
    return (f"{_two(x.number):>3} {x.cabinet:>3} {_two(x.slot):>3} {_two(x.port):>3} "
            f"{x.kind:<4} {x.status}")


def format_extension(x: Extension) -> str:
    return (f"{x.number:<5} {x.cabinet:>3} {_two(x.slot):>3} {_two(x.port):>3} "
            f"{x.ext_type:<4} {x.name:<16} {x.status}")


def format_date(now: datetime) -> str:
    return f"DATE : {now:%d/%m/%y} {DAYS[now.weekday()]} {now:%H:%M:%S}"


# --- the session --------------------------------------------------------------------------


class _Phase(enum.Enum):
    LOGIN_USER = enum.auto()
    LOGIN_PASSWORD = enum.auto()
    COMMAND = enum.auto()
    PAGER = enum.auto()
    CLOSED = enum.auto()


Handler = Callable[[list[str]], list[str]]


class PanasonicSession:
    """One maintenance-console session over any byte stream."""

    def __init__(self, pbx: PbxState, *, login_required: bool, send: Callable[[bytes], None],
                 username: str = "INSTALLER", password: str | None = None) -> None:
        if login_required and password is None:
            raise ValueError("a session with a login dialogue needs a password")
        self._pbx = pbx
        self._send = send
        self._login_required = login_required
        self._username = username
        self._password = password
        self._phase = _Phase.LOGIN_USER if login_required else _Phase.COMMAND
        self._out = bytearray()
        self._line = bytearray()
        self._discarded = 0  # characters typed past MAX_LINE + 1, not stored
        self._skip_lf = False
        self._given_user = ""
        self._failed_logins = 0
        self._paging = True
        self._page_lines = DEFAULT_PAGE_LINES
        self._pending: deque[str] = deque()
        self._commands: dict[str, Handler] = {
            "VER": self._ver, "ALM": self._alm, "ERR": self._err, "CARD": self._card,
            "CO": self._co, "EXT": self._ext, "MODE": self._mode, "DATE": self._date,
            "PAGE": self._page, "EXIT": self._exit,
        }

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the PBX has ended the session (EXIT, third failed login, close)."""
        return self._phase is _Phase.CLOSED

    def start(self) -> None:
        """Send the banner, then the prompt (SSH) or the login dialogue (other lines)."""
        model = self._pbx.system.model
        title = f"{self._pbx.system.vendor} {model} Maintenance Console"
        if self._login_required:
            self._emit_line(title)
            self._emit(b"Login: ")
        else:
            self._emit(CRLF)
            self._emit_line(title)
            self._emit_line(f"Copyright (C) {self._pbx.system.vendor}")
            self._emit(CRLF)
            self._prompt()
        self._flush()

    def feed(self, data: bytes) -> None:
        """Handle bytes typed by the client; the answer leaves through ``send`` in one call."""
        for byte in data:
            if self.closed:
                break
            self._byte(byte)
        self._flush()

    def close(self) -> None:
        """The line went away: end the session and release what it held. Sends nothing."""
        self._phase = _Phase.CLOSED
        self._pbx.release_programming(self)

    # --- output -------------------------------------------------------------------------

    def _emit(self, data: bytes) -> None:
        self._out += data

    def _emit_line(self, text: str) -> None:
        self._out += text.encode("ascii", "replace") + CRLF

    def _flush(self) -> None:
        if self._out:
            data = bytes(self._out)
            self._out.clear()
            self._send(data)

    def _prompt(self) -> None:
        self._phase = _Phase.COMMAND
        self._emit(f"{self._pbx.system.model}> ".encode("ascii", "replace"))

    # --- input, one byte at a time ------------------------------------------------------

    def _byte(self, byte: int) -> None:
        if self._skip_lf:
            self._skip_lf = False
            if byte == LF:
                return
        if self._phase is _Phase.PAGER:
            self._pager_byte(byte)
        elif byte in (CR, LF):
            self._skip_lf = byte == CR
            self._end_of_line()
        elif byte in (BS, DEL):
            self._backspace()
        elif SPACE <= byte < DEL:
            self._printable(byte)
        # Any other byte (controls, 8-bit noise) is ignored, as the PBX ignores line noise.

    @property
    def _echoing(self) -> bool:
        return self._phase is not _Phase.LOGIN_PASSWORD

    def _printable(self, byte: int) -> None:
        if len(self._line) <= MAX_LINE:
            self._line.append(byte)
        else:
            self._discarded += 1
        if self._echoing:
            self._emit(bytes((byte,)))

    def _backspace(self) -> None:
        if self._discarded:
            self._discarded -= 1
        elif self._line:
            self._line.pop()
        else:
            return
        if self._echoing:
            self._emit(BACKSPACE_ECHO)

    def _take_line(self) -> str | None:
        """The typed line, or None when it was longer than MAX_LINE characters."""
        too_long = len(self._line) > MAX_LINE
        text = self._line.decode("ascii")
        self._line.clear()
        self._discarded = 0
        return None if too_long else text

    def _end_of_line(self) -> None:
        self._emit(CRLF)
        text = self._take_line()
        if self._phase is _Phase.LOGIN_USER:
            self._given_user = text or ""
            self._phase = _Phase.LOGIN_PASSWORD
            self._emit(b"Password: ")
        elif self._phase is _Phase.LOGIN_PASSWORD:
            self._check_login(text or "")
        elif text is None:
            self._error(*LINE_TOO_LONG)
        else:
            self._execute(text)

    def _pager_byte(self, byte: int) -> None:
        if byte in (CR, LF, SPACE):
            self._skip_lf = byte == CR
            self._emit(PAGER_ERASE)
            self._show_page()
        elif byte in (ord("q"), ord("Q")):
            self._emit(PAGER_ERASE)
            self._pending.clear()
            self._prompt()

    # --- login --------------------------------------------------------------------------

    def _check_login(self, password: str) -> None:
        if self._given_user == self._username and password == self._password:
            self._prompt()
            return
        self._failed_logins += 1
        self._emit_line("LOGIN INCORRECT")
        if self._failed_logins >= MAX_LOGIN_ATTEMPTS:
            self.close()
        else:
            self._phase = _Phase.LOGIN_USER
            self._emit(b"Login: ")

    # --- commands -----------------------------------------------------------------------

    def _error(self, code: int, text: str) -> None:
        self._emit_line(ConsoleError(code, text).line)
        self._prompt()

    def _execute(self, text: str) -> None:
        words = text.split()
        if not words:
            self._prompt()
            return
        handler = self._commands.get(words[0].upper())
        try:
            if handler is None:
                raise ConsoleError(*UNKNOWN_COMMAND)
            lines = handler(words[1:])
        except ConsoleError as exc:
            self._emit_line(exc.line)
            self._prompt()
            return
        if not self.closed:
            self._pending = deque(lines)
            self._show_page()

    def _show_page(self) -> None:
        count = self._page_lines if self._paging else len(self._pending)
        for _ in range(min(count, len(self._pending))):
            self._emit_line(self._pending.popleft())
        if self._pending:
            self._phase = _Phase.PAGER
            self._emit(PAGER_PROMPT)
        else:
            self._prompt()

    @staticmethod
    def _no_args(args: list[str]) -> None:
        if args:
            raise ConsoleError(*INVALID_PARAMETER)

    def _ver(self, args: list[str]) -> list[str]:
        self._no_args(args)
        system = self._pbx.system
        return [f"System Model   : {system.model}", system.software_version]

    def _alm(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [format_log_entry(e) for e in self._pbx.active_alarms()] or ["NO ALARM"]

    def _err(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [format_log_entry(e) for e in self._pbx.error_log()] or ["NO ERROR LOG"]

    def _card(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [CARD_HEADER, *(format_card(c) for c in self._pbx.cards())]

    def _co(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [CO_HEADER, *(format_co_line(x) for x in self._pbx.co_lines())]

    def _ext(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [EXT_HEADER, *(format_extension(x) for x in self._pbx.extensions())]

    def _mode(self, args: list[str]) -> list[str]:
        self._no_args(args)
        service = self._pbx.time_service
        switching = "AUTO" if service.automatic else "MANUAL"
        return [f"TIME SERVICE : {service.mode}", f"SWITCHING    : {switching}"]

    def _date(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [format_date(self._pbx.now())]

    def _page(self, args: list[str]) -> list[str]:
        if len(args) != 1:
            raise ConsoleError(*INVALID_PARAMETER)
        word = args[0].upper()
        if word == "OFF":
            self._paging = False
        elif word == "ON":
            self._paging = True
        elif word.isdigit() and 5 <= int(word) <= 99:
            self._paging, self._page_lines = True, int(word)
        else:
            raise ConsoleError(*INVALID_PARAMETER)
        return ["OK"]

    def _exit(self, args: list[str]) -> list[str]:
        self._no_args(args)
        self._emit_line("BYE")
        self.close()
        return []
