"""The Toshiba Strata maintenance console (docs/dialects/toshiba.md), transport-free.

Same session shape as ``PanasonicSession`` (``start``/``feed``/``close``/``closed``), but a
different console on every point a driver meets: CR-only lines, a ``Username:`` login
with an access-level banner, ``STRATA-CTX670# `` prompts, ``SHOW …`` commands, a pager
that also steps one line, and ``?ERR nn TEXT`` replies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from simulators.console_base import (
    CR,
    INVALID_PARAMETER,
    LF,
    SPACE,
    UNKNOWN_COMMAND,
    Handler,
    LineSession,
    ReplyError,
    since_argument,
)
from simulators.programming import ProgramError
from simulators.records import Card as CardRecord
from simulators.records import CoLine, Extension, LogEntry
from simulators.state import PbxState
from simulators.toshiba import programs
from simulators.toshiba.alarms import alarm_for, equipment
from simulators.toshiba.smdr import smdr_lines
from simulators.toshiba.words import (
    MODE_WORDS,
    STATION_STATUS,
    STATION_WORDS,
    STATUS_WORDS,
    trunk_word,
)

CR_ONLY = b"\r"
PAGER_PROMPT = b"-- [C]ONTINUE [Q]UIT --"
MAX_LINE = 128
DEFAULT_PAGE_LINES = 24
ACCESS_LEVEL = "TECH1"
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
FROM_FORMAT = "%m/%d/%y %H:%M"

ALARM_HEADER = "DATE     TIME     CODE CATEGORY SEV   EQUIP  DESCRIPTION"
PCB_HEADER = "SLOT PCB   VER      STATUS"
TRUNK_HEADER = "TRK  EQUIP  TYPE STATUS"
STATION_HEADER = "PDN   EQUIP  TYPE NAME             STATUS"
DN_HEADER = "DN    TYPE EQUIP  PDN"


class ToshibaError(ReplyError):
    """An error reply: one line ``?ERR nn TEXT``, then the prompt."""

    @staticmethod
    def render(code: int, text: str) -> str:
        return f"?ERR {code:02d} {text}"
PROGRAMMING_IN_USE = (3, "PROGRAMMING IN USE")
NOT_IN_PROGRAM_MODE = (4, "NOT IN PROGRAM MODE")
LINE_TOO_LONG = (5, "LINE TOO LONG")
READ_ONLY = (6, "READ ONLY PROGRAM")


# --- rendering ----------------------------------------------------------------------------


def format_alarm(pbx: PbxState, e: LogEntry) -> str:
    alarm = alarm_for(pbx, e)
    severity = "MAJOR" if e.level == "MJ" else "MINOR"
    return (f"{e.when:%m/%d/%y %H:%M:%S} {alarm.code:04d} {alarm.category:<8} {severity:<5} "
            f"{equipment(e)} {alarm.text}")


def format_pcb(c: CardRecord) -> str:
    return f"{c.cabinet:02d}{c.slot:02d} {c.card_type:<5} {c.firmware:<8} {STATUS_WORDS[c.status]}"


def _equip(cabinet: int, slot: int, port: int) -> str:
    return f"{cabinet:02d}{slot:02d}{port:02d}"


def format_trunk(pbx: PbxState, x: CoLine) -> str:
    word = trunk_word(pbx.card(x.slot, x.cabinet))
    return (f"T{x.number:03d} {_equip(x.cabinet, x.slot, x.port)} {word:<4} "
            f"{STATUS_WORDS[x.status]}")


def format_station(x: Extension) -> str:
    return (f"{x.number:<5} {_equip(x.cabinet, x.slot, x.port)} "
            f"{STATION_WORDS[x.ext_type]:<4} {x.name:<16} {STATION_STATUS[x.status]}")


def dn_lines(stations: list[Extension]) -> list[str]:
    rows = []
    for x in stations:
        where = _equip(x.cabinet, x.slot, x.port)
        rows.append((x.number, "PDN", where, x.number))
        rows += [(dn, "PhDN", where, x.number) for dn in x.phantoms]
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    return [f"{dn:<5} {kind:<4} {where} {pdn}" for dn, kind, where, pdn in rows]


def parse_from(args: list[str]) -> datetime | None:
    """``[]`` -> None; ``["FROM", "MM/DD/YY", "HH:MM"]`` -> that minute; else ?ERR 02."""
    return since_argument(args, keyword="FROM", time_format=FROM_FORMAT, error=ToshibaError)


# --- the session --------------------------------------------------------------------------


class ToshibaSession(LineSession):
    """One Strata maintenance session over any byte stream."""

    reply_error = ToshibaError

    line_ending = CR_ONLY
    max_line = MAX_LINE
    pager_prompt = PAGER_PROMPT
    page_lines = DEFAULT_PAGE_LINES
    prompt_format = "STRATA-{model}{mode}# "
    programming_mark = "(PGM)"
    username_prompt = b"Username: "
    login_refused = "ACCESS DENIED"
    login_dropped = "DISCONNECTED"
    username_any_case = True
    line_too_long = LINE_TOO_LONG
    programming_locked = PROGRAMMING_IN_USE
    not_in_programming = NOT_IN_PROGRAM_MODE
    programming_entered = "PROGRAM MODE"
    programming_left = "PROGRAM MODE ENDED"
    farewell = "GOODBYE"

    def __init__(self, pbx: PbxState, *, login_required: bool, send: Callable[[bytes], None],
                 username: str = "TECH1", password: str | None = None) -> None:
        super().__init__(pbx, login_required=login_required, send=send, username=username,
                         password=password)
        self._commands = {
            "SHOW": self._show_command, "SET": self._set, "LOGOUT": self._logout,
            "PGM": self._enter_programming, "END": self._leave_programming,
            "GET": self._get, "PUT": self._put, "LIST": self._list,
        }
        self._shows: dict[str, Handler] = {
            "VERSION": self._version, "ALARM": self._alarm, "PCB": self._pcb,
            "TRUNK": self._trunk, "STATION": self._station, "DN": self._dn,
            "MODE": self._mode, "TIME": self._time, "SMDR": self._smdr,
        }

    @property
    def _title(self) -> str:
        return f"STRATA {self._pbx.system.model} REMOTE MAINTENANCE"

    # --- dialect hooks ------------------------------------------------------------------

    def _greet(self) -> None:
        self._emit(CR_ONLY)
        self._emit_line(self._title)
        if self._login_required:
            self._emit(self.username_prompt)
        else:
            self._logged_in()

    def _logged_in(self) -> None:
        self._emit_line(f"*** ACCESS LEVEL: {ACCESS_LEVEL} ***")
        self._emit(CR_ONLY)
        self._prompt()

    def _pager_byte(self, byte: int) -> None:
        if byte in (ord("c"), ord("C"), SPACE):
            self._erase_pager()
            self._show(self._page_lines)
        elif byte in (CR, LF):
            self._skip_lf = byte == CR
            self._erase_pager()
            self._show(1)
        elif byte in (ord("q"), ord("Q")):
            self._quit_pager()

    # --- commands -----------------------------------------------------------------------

    def _show_command(self, args: list[str]) -> list[str]:
        if not args:
            raise ToshibaError(*INVALID_PARAMETER)
        handler = self._shows.get(args[0].upper())
        if handler is None:
            raise ToshibaError(*UNKNOWN_COMMAND)
        return handler(args[1:])

    def _version(self, args: list[str]) -> list[str]:
        self._no_args(args)
        system = self._pbx.system
        return [f"SYSTEM  : STRATA {system.model}", f"VERSION : {system.software_version}"]

    def _alarm(self, args: list[str]) -> list[str]:
        if args and args[0].upper() == "HISTORY":
            since = parse_from(args[1:])
            entries = [e for e in self._pbx.error_log() if since is None or e.when >= since]
            if not entries:
                return ["ALARM HISTORY EMPTY"]
        else:
            self._no_args(args)
            entries = self._pbx.active_alarms()
            if not entries:
                return ["NO ACTIVE ALARM"]
        return [ALARM_HEADER, *(format_alarm(self._pbx, e) for e in entries)]

    def _pcb(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [PCB_HEADER, *(format_pcb(c) for c in self._pbx.cards())]

    def _trunk(self, args: list[str]) -> list[str]:
        self._no_args(args)
        with self._pbx.batch():
            lines = [format_trunk(self._pbx, x) for x in self._pbx.co_lines()]
        return [TRUNK_HEADER, *lines]

    def _station(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [STATION_HEADER, *(format_station(x) for x in self._pbx.extensions())]

    def _dn(self, args: list[str]) -> list[str]:
        self._no_args(args)
        return [DN_HEADER, *dn_lines(self._pbx.extensions())]

    def _mode(self, args: list[str]) -> list[str]:
        self._no_args(args)
        service = self._pbx.time_service
        control = "AUTO" if service.automatic else "MANUAL"
        return [f"DAY/NIGHT MODE : {MODE_WORDS[service.mode]}", f"CONTROL        : {control}"]

    def _time(self, args: list[str]) -> list[str]:
        self._no_args(args)
        now = self._pbx.now()
        return [f"SYSTEM TIME : {now:%m/%d/%y} {DAYS[now.weekday()]} {now:%H:%M:%S}"]

    def _smdr(self, args: list[str]) -> list[str]:
        since = parse_from(args)
        items = [item for _, item in self._pbx.smdr_items()]
        return smdr_lines(items, since) or ["NO SMDR RECORD"]

    def _set(self, args: list[str]) -> list[str]:
        if len(args) != 2 or args[0].upper() != "LENGTH" or not args[1].isdigit():
            raise ToshibaError(*INVALID_PARAMETER)
        length = int(args[1])
        if length == 0:
            self._paging = False
        elif 5 <= length <= 99:
            self._paging, self._page_lines = True, length
        else:
            raise ToshibaError(*INVALID_PARAMETER)
        return ["COMPLETED"]

    # --- system programming -------------------------------------------------------------

    def _get(self, args: list[str]) -> list[str]:
        self._need_programming()
        if not args:
            raise ToshibaError(*INVALID_PARAMETER)
        try:
            return [programs.get(self._pbx, args)]
        except ProgramError:
            raise ToshibaError(*INVALID_PARAMETER) from None

    def _put(self, args: list[str]) -> list[str]:
        self._need_programming()
        try:
            programs.put(self._pbx, self._typed)
        except programs.ReadOnly:
            raise ToshibaError(*READ_ONLY) from None
        except ProgramError:
            raise ToshibaError(*INVALID_PARAMETER) from None
        return ["COMPLETED"]

    def _list(self, args: list[str]) -> list[str]:
        self._need_programming()
        self._no_args(args)
        return programs.listing(self._pbx)
