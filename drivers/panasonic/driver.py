"""Panasonic KX-TDA / KX-TDE / KX-NS driver over the dialect in docs/dialects/panasonic.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import structlog

from agent.console import ConsoleDialect
from agent.errors import AuthFailed, CommandRejected, ParseError, ProgrammingLocked
from agent.transports.base import Credentials
from drivers.base import Driver
from drivers.model import Alarm, Card, Extension, OperatingMode, SystemInfo, Trunk
from drivers.panasonic import parsers

log = structlog.get_logger(__name__)

T = TypeVar("T")

_ERROR_REPLY = re.compile(r"^ERROR (?P<code>\d\d): (?P<text>.*)$", re.MULTILINE)
_LOCKED = "03"
_LOGIN_TIMEOUT = 20.0


class PanasonicDriver(Driver):
    vendor = "panasonic"
    dialect = ConsoleDialect(
        prompt=r"KX-[A-Z0-9]+(?:\(PRG\))?> ",
        pager=r"-- More -- ",
        pager_answer=b" ",
        line_ending=b"\r",
        encoding="ascii",
    )

    def open_session(self, credentials: Credentials) -> None:
        console = self.console
        if not console.transport.authenticates:
            self._login(credentials)
        else:
            console.wait_for_prompt(_LOGIN_TIMEOUT)
        # Paging off first: every pager round trip holds the customer's line longer.
        self.run("PAGE OFF")

    def _login(self, credentials: Credentials) -> None:
        console = self.console
        console.wait_for([r"Login: \Z"], _LOGIN_TIMEOUT, what="the login prompt")
        console.sendline(credentials.username or "")
        console.wait_for([r"Password: \Z"], _LOGIN_TIMEOUT, what="the password prompt")
        if credentials.password is not None:
            console.send_secret(credentials.password)
        else:
            console.sendline("")
        index = console.wait_for([console.dialect.prompt + r"\Z", r"LOGIN INCORRECT"],
                                 _LOGIN_TIMEOUT, what="the login result")
        if index == 1:
            raise AuthFailed("the PBX refused the maintenance login")

    def close_session(self) -> None:
        try:
            self.console.sendline("EXIT")
        except Exception as err:
            log.debug("logout failed", error=str(err))

    def run(self, command: str) -> str:
        """Run a console command; an ``ERROR nn`` reply becomes a typed error."""
        output = self.console.command(command)
        error = _ERROR_REPLY.search(output)
        if error is not None:
            reply = error.group(0)
            if error["code"] == _LOCKED:
                raise ProgrammingLocked(command, reply)
            raise CommandRejected(command, reply)
        return output

    def _parsed(self, command: str, parser: Callable[[str], tuple[T, parsers.BadLines]],
                what: str) -> T:
        value, bad = parser(self.run(command))
        if bad or value is None:
            raise ParseError(what, bad)
        return value

    def system_info(self) -> SystemInfo:
        info = self._parsed("VER", parsers.parse_version, "system information")
        assert info is not None
        return info

    def alarms(self) -> list[Alarm]:
        return self._parsed("ALM", parsers.parse_alarms, "active alarms")

    def error_log(self) -> list[Alarm]:
        return self._parsed("ERR", parsers.parse_error_log, "error log")

    def cards(self) -> list[Card]:
        return self._parsed("CARD", parsers.parse_cards, "card list")

    def trunks(self) -> list[Trunk]:
        return self._parsed("CO", parsers.parse_trunks, "CO line list")

    def extensions(self) -> list[Extension]:
        return self._parsed("EXT", parsers.parse_extensions, "extension list")

    def operating_mode(self) -> OperatingMode:
        mode = self._parsed("MODE", parsers.parse_mode, "time service mode")
        assert mode is not None
        return mode
