"""The line discipline every simulated console shares; the dialects differ in the details.

Bytes in through ``feed``, bytes out through ``send``: the same object serves SSH, telnet,
a pseudo-terminal or a modem line, so every transport shows byte-for-byte the same
dialect. Input is handled one byte at a time, so any split of the input gives the same
output, and no input (noise, binary, an over-long line) can raise. A dialect subclass
sets the line ending, the echo of Enter, the pager, and handles complete lines.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from datetime import datetime

from simulators.faults import garbled
from simulators.state import PbxState

CR, LF, BS, DEL, SPACE = 0x0D, 0x0A, 0x08, 0x7F, 0x20
BACKSPACE_ECHO = b"\b \b"
UNKNOWN_COMMAND = (1, "UNKNOWN COMMAND")
INVALID_PARAMETER = (2, "INVALID PARAMETER")

#: A command handler: the words after the command, to the lines of its reply.
Handler = Callable[[list[str]], list[str]]


class ReplyError(Exception):
    """An error reply in the dialect's own words; ``line`` is what the console prints."""

    def __init__(self, code: int, text: str) -> None:
        self.line = self.render(code, text)
        super().__init__(self.line)

    @staticmethod
    def render(code: int, text: str) -> str:
        raise NotImplementedError


class Phase(enum.Enum):
    LOGIN_USER = enum.auto()
    LOGIN_PASSWORD = enum.auto()
    COMMAND = enum.auto()
    PAGER = enum.auto()
    CLOSED = enum.auto()


def since_argument(args: list[str], *, keyword: str, time_format: str,
                   error: type[ReplyError]) -> datetime | None:
    """``[]`` -> None; ``[keyword, date, time]`` -> that minute; else INVALID PARAMETER.

    Both dialects take "only what is new" as a keyword and a date and time in their own
    notation (``SINCE DD/MM/YY HH:MM``, ``FROM MM/DD/YY HH:MM``)."""
    if not args:
        return None
    if len(args) != 3 or args[0].upper() != keyword:
        raise error(*INVALID_PARAMETER)
    try:
        return datetime.strptime(f"{args[1]} {args[2]}", time_format)
    except ValueError:
        raise error(*INVALID_PARAMETER) from None


class LineSession:
    """One console session: echo, line editing, paging, the login dialogue and the single
    programming session; the dialect states its words and handles its commands."""

    #: What the PBX ends its lines with, and what it echoes for Enter.
    line_ending = b"\r\n"
    #: The longest line accepted; longer input is discarded and answered with an error.
    max_line = 256
    #: The pager prompt, and how many lines a page holds when paging is on.
    pager_prompt = b"-- More -- "
    page_lines = 20
    #: The prompt, ``{model}`` and ``{mode}`` (``programming_mark`` while programming).
    prompt_format: str
    programming_mark: str
    #: The login dialogue: its prompts, the refusal, what is printed before the line is
    #: dropped after the last refused attempt (nothing if None), and whether the user
    #: name is compared regardless of case.
    username_prompt: bytes
    password_prompt = b"Password: "
    login_refused: str
    login_dropped: str | None = None
    max_login_attempts = 3
    username_any_case = False
    #: Error replies (code, text) and the words of the programming session and logout.
    line_too_long: tuple[int, str]
    programming_locked: tuple[int, str]
    not_in_programming: tuple[int, str]
    programming_entered: str
    programming_left: str
    farewell: str

    def __init__(self, pbx: PbxState, *, login_required: bool, send: Callable[[bytes], None],
                 username: str, password: str | None) -> None:
        if login_required and password is None:
            raise ValueError("a session with a login dialogue needs a password")
        self._username = username
        self._password = password
        self._given_user = ""
        self._failed_logins = 0
        self._programming = False
        self._pbx = pbx
        self._send = send
        self._login_required = login_required
        self._phase = Phase.LOGIN_USER if login_required else Phase.COMMAND
        self._out = bytearray()
        self._line = bytearray()
        self._discarded = 0  # characters typed past max_line + 1, not stored
        self._skip_lf = False
        self._paging = True
        self._page_lines = self.page_lines
        self._pending: deque[str] = deque()
        self._commands: dict[str, Handler] = {}
        self._typed = ""  # the whole command line (programming commands read values from it)

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the PBX has ended the session (logout, failed logins, close, dead PBX)."""
        return self._phase is Phase.CLOSED

    def start(self) -> None:
        """Greet the caller; a dead PBX says nothing and ends the session."""
        if not self._pbx.responding:
            self.close()
            return
        self._greet()
        self._flush()

    def feed(self, data: bytes) -> None:
        """Handle bytes typed by the client; the answer leaves through ``send`` in one call."""
        if not self._pbx.responding:
            self.close()
            return
        for byte in data:
            if self.closed:
                break
            self._byte(byte)
        self._flush()

    def close(self) -> None:
        """The line went away: end the session and release what it held. Sends nothing."""
        self._programming = False
        self._phase = Phase.CLOSED
        self._pbx.release_programming(self)

    # --- dialect hooks ------------------------------------------------------------------

    def _greet(self) -> None:
        raise NotImplementedError

    def _logged_in(self) -> None:
        """The login dialogue succeeded (or there was none): the prompt, by default."""
        self._prompt()

    def _prompt(self) -> None:
        self._phase = Phase.COMMAND
        mode = self.programming_mark if self._programming else ""
        prompt = self.prompt_format.format(model=self._pbx.system.model, mode=mode)
        self._emit(prompt.encode("ascii", "replace"))

    def _login_line(self, text: str) -> None:
        """A complete line typed during the login dialogue (user name or password)."""
        if self._phase is Phase.LOGIN_USER:
            self._given_user = text
            self._phase = Phase.LOGIN_PASSWORD
            self._emit(self.password_prompt)
            return
        given, wanted = self._given_user, self._username
        if self.username_any_case:
            given, wanted = given.upper(), wanted.upper()
        if given == wanted and text == self._password:
            self._logged_in()
            return
        self._failed_logins += 1
        self._emit_line(self.login_refused)
        if self._failed_logins >= self.max_login_attempts:
            if self.login_dropped is not None:
                self._emit_line(self.login_dropped)
            self.close()
        else:
            self._phase = Phase.LOGIN_USER
            self._emit(self.username_prompt)

    #: The dialect's error reply type; its (code, text) constructor builds the line.
    reply_error: type[ReplyError] = ReplyError

    def _execute(self, text: str) -> None:
        """Dispatch a complete command line to the dialect's ``_commands`` table."""
        words = text.split()
        if not words:
            self._prompt()
            return
        handler = self._commands.get(words[0].upper())
        try:
            if handler is None:
                raise self.reply_error(*UNKNOWN_COMMAND)
            self._typed = text
            lines = handler(words[1:])
        except ReplyError as exc:
            self._emit_line(exc.line)
            self._prompt()
            return
        if not self.closed:
            self._output(garbled(self._pbx, text) or lines)

    def _error(self, code: int, text: str) -> None:
        self._emit_line(self.reply_error(code, text).line)
        self._prompt()

    def _no_args(self, args: list[str]) -> None:
        if args:
            raise self.reply_error(*INVALID_PARAMETER)

    def _too_long(self) -> None:
        self._error(*self.line_too_long)

    def _pager_byte(self, byte: int) -> None:
        raise NotImplementedError

    # --- commands every dialect has -----------------------------------------------------

    def _logout(self, args: list[str]) -> list[str]:
        self._no_args(args)
        self._emit_line(self.farewell)
        self.close()
        return []

    def _enter_programming(self, args: list[str]) -> list[str]:
        """Take the PBX's single programming session (refused while another holds it)."""
        self._no_args(args)
        if not self._pbx.acquire_programming(self):
            raise self.reply_error(*self.programming_locked)
        self._programming = True
        return [self.programming_entered]

    def _leave_programming(self, args: list[str]) -> list[str]:
        self._need_programming()
        self._no_args(args)
        self._programming = False
        self._pbx.release_programming(self)
        return [self.programming_left]

    def _need_programming(self) -> None:
        if not self._programming:
            raise self.reply_error(*self.not_in_programming)

    # --- output -------------------------------------------------------------------------

    def _emit(self, data: bytes) -> None:
        self._out += data

    def _emit_line(self, text: str) -> None:
        self._out += text.encode("ascii", "replace") + self.line_ending

    def _flush(self) -> None:
        if self._out:
            data = bytes(self._out)
            self._out.clear()
            self._send(data)

    def _erase_pager(self) -> None:
        self._emit(b"\r" + b" " * len(self.pager_prompt) + b"\r")

    # --- input, one byte at a time ------------------------------------------------------

    def _byte(self, byte: int) -> None:
        if self._skip_lf:
            self._skip_lf = False
            if byte == LF:
                return
        if self._phase is Phase.PAGER:
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
        return self._phase is not Phase.LOGIN_PASSWORD

    def _printable(self, byte: int) -> None:
        if len(self._line) <= self.max_line:
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
        """The typed line, or None when it was longer than ``max_line`` characters."""
        too_long = len(self._line) > self.max_line
        text = self._line.decode("ascii")
        self._line.clear()
        self._discarded = 0
        return None if too_long else text

    def _end_of_line(self) -> None:
        self._emit(self.line_ending)
        text = self._take_line()
        if self._phase in (Phase.LOGIN_USER, Phase.LOGIN_PASSWORD):
            self._login_line(text or "")
        elif text is None:
            self._too_long()
        else:
            self._execute(text)

    # --- paging -------------------------------------------------------------------------

    def _output(self, lines: list[str]) -> None:
        """Show a command's output, a page at a time when paging is on."""
        self._pending = deque(lines)
        self._show(self._page_lines)

    def _show(self, count: int) -> None:
        if not self._paging:
            count = len(self._pending)
        for _ in range(min(count, len(self._pending))):
            self._emit_line(self._pending.popleft())
        if self._pending:
            self._phase = Phase.PAGER
            self._emit(self.pager_prompt)
        else:
            self._prompt()

    def _quit_pager(self) -> None:
        self._erase_pager()
        self._pending.clear()
        self._prompt()
