"""The Panasonic maintenance console (docs/dialects/panasonic.md) as a transport-free session.

CR LF line endings, ``KX-TDE200> `` prompts, ``-- More -- `` paging, ``ERROR nn: TEXT``
replies; the line discipline is shared with the other dialects (``console_base``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from simulators.console_base import (
    CR,
    INVALID_PARAMETER,
    LF,
    SPACE,
    LineSession,
    ReplyError,
    since_argument,
)
from simulators.models import NS_VIRTUAL_SLOTS, PANASONIC
from simulators.panasonic import programs
from simulators.panasonic.smdr import format_log_entry, smdr_lines
from simulators.programming import ProgramError
from simulators.records import Card as CardRecord
from simulators.records import CoLine, Extension, LogEntry
from simulators.state import PbxState

CRLF = b"\r\n"
PAGER_PROMPT = b"-- More -- "
PAGER_ERASE = b"\r" + b" " * len(PAGER_PROMPT) + b"\r"
MAX_LINE = 256
DEFAULT_PAGE_LINES = 20
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
SINCE_FORMAT = "%d/%m/%y %H:%M"

CARD_HEADER = "CAB SLT CARD     MODEL        FIRMWARE STATUS"
CO_HEADER = "CO  CAB SLT PRT KIND STATUS"
EXT_HEADER = "EXT   CAB SLT PRT TYPE NAME             STATUS"
NS_UNIT = "01"  # KX-NS sub codes: BB, the unit number of this (stand-alone) system

__all__ = ["ConsoleError", "PanasonicSession", "format_log_entry"]


class ConsoleError(ReplyError):
    """An error reply: one line ``ERROR nn: TEXT``, then the prompt."""

    @staticmethod
    def render(code: int, text: str) -> str:
        return f"ERROR {code:02d}: {text}"
LINE_TOO_LONG = (2, "LINE TOO LONG")
PROGRAMMING_LOCKED = (3, "PROGRAMMING LOCKED")
NOT_IN_PROGRAMMING = (4, "NOT IN PROGRAMMING MODE")


# --- rendering (pure functions of state records) ------------------------------------------


def _two(n: int) -> str:
    return f"{n:02d}"


def ns_sub_code(e: LogEntry) -> str:
    """KX-NS's 8-digit ``BBWXYYZZ``: unit, ``*`` for a virtual slot (else 0), then XYYZZ."""
    virtual = e.cabinet == 1 and e.slot in NS_VIRTUAL_SLOTS
    return f"{NS_UNIT}{'*' if virtual else '0'}{e.sub_code}"


def format_ns_log_entry(e: LogEntry) -> str:
    return (f"{e.when:%d/%m/%y %H:%M}    {e.level} ALM #{e.code:03d} 00 {ns_sub_code(e)} "
            f"{e.message}")


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


def parse_since(args: list[str]) -> datetime | None:
    """``[]`` -> None; ``["SINCE", "DD/MM/YY", "HH:MM"]`` -> that minute; else ERROR 02."""
    return since_argument(args, keyword="SINCE", time_format=SINCE_FORMAT,
                          error=ConsoleError)


# --- the session --------------------------------------------------------------------------


class PanasonicSession(LineSession):
    """One maintenance-console session over any byte stream."""

    reply_error = ConsoleError

    line_ending = CRLF
    max_line = MAX_LINE
    pager_prompt = PAGER_PROMPT
    page_lines = DEFAULT_PAGE_LINES
    prompt_format = "{model}{mode}> "
    programming_mark = "(PRG)"
    username_prompt = b"Login: "
    login_refused = "LOGIN INCORRECT"
    line_too_long = LINE_TOO_LONG
    programming_locked = PROGRAMMING_LOCKED
    not_in_programming = NOT_IN_PROGRAMMING
    programming_entered = "OK"
    programming_left = "OK"
    farewell = "BYE"

    def __init__(self, pbx: PbxState, *, login_required: bool, send: Callable[[bytes], None],
                 username: str = "INSTALLER", password: str | None = None) -> None:
        super().__init__(pbx, login_required=login_required, send=send, username=username,
                         password=password)
        self._format_entry = (format_ns_log_entry if pbx.system.model.startswith("KX-NS")
                              else format_log_entry)
        self._commands = {
            "VER": self._ver, "ALM": self._alm, "ERR": self._err, "CARD": self._card,
            "CO": self._co, "EXT": self._ext, "MODE": self._mode, "DATE": self._date,
            "PAGE": self._page, "EXIT": self._logout, "SMDR": self._smdr,
            "PRG": self._enter_programming, "END": self._leave_programming,
            "READ": self._read, "WRITE": self._write, "DUMP": self._dump,
        }

    # --- dialect hooks --------------------------------------------------------------------

    def _greet(self) -> None:
        """The banner, then the prompt (SSH) or the login dialogue (other lines)."""
        vendor = self._pbx.system.vendor or PANASONIC
        title = f"{vendor} {self._pbx.system.model} Maintenance Console"
        if self._login_required:
            self._emit_line(title)
            self._emit(self.username_prompt)
        else:
            self._emit(CRLF)
            self._emit_line(title)
            self._emit_line(f"Copyright (C) {vendor}")
            self._emit(CRLF)
            self._prompt()

    def _pager_byte(self, byte: int) -> None:
        if byte in (CR, LF, SPACE):
            self._skip_lf = byte == CR
            self._erase_pager()
            self._show(self._page_lines)
        elif byte in (ord("q"), ord("Q")):
            self._quit_pager()

    # --- commands -----------------------------------------------------------------------

    def _ver(self, args: list[str]) -> list[str]:
        self._no_args(args)
        system = self._pbx.system
        return [f"System Model   : {system.model}", system.software_version]

    def _alm(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [self._format_entry(e) for e in self._pbx.active_alarms()] or ["NO ALARM"]

    def _err(self, args: list[str]) -> list[str]:
        since = parse_since(args)
        entries = [e for e in self._pbx.error_log() if since is None or e.when >= since]
        return [self._format_entry(e) for e in entries] or ["NO ERROR LOG"]

    def _smdr(self, args: list[str]) -> list[str]:
        since = parse_since(args)
        items = [item for _, item in self._pbx.smdr_items()]
        return smdr_lines(items, since) or ["NO SMDR DATA"]

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

    # --- system programming -------------------------------------------------------------

    def _read(self, args: list[str]) -> list[str]:
        self._need_programming()
        if not args:
            raise ConsoleError(*INVALID_PARAMETER)
        try:
            return [programs.read(self._pbx, args[0], tuple(args[1:]))]
        except ProgramError:
            raise ConsoleError(*INVALID_PARAMETER) from None

    def _write(self, args: list[str]) -> list[str]:
        """``WRITE nnn args = value``: the value is the rest of the line after ``=``."""
        self._need_programming()
        head, equals, value = self._typed.partition("=")
        words = head.split()[1:]
        if not equals or not words:
            raise ConsoleError(*INVALID_PARAMETER)
        try:
            programs.write(self._pbx, words[0], tuple(words[1:]), value.strip())
        except ProgramError:
            raise ConsoleError(*INVALID_PARAMETER) from None
        return ["OK"]

    def _dump(self, args: list[str]) -> list[str]:
        self._need_programming()
        self._no_args(args)
        return programs.dump(self._pbx)
