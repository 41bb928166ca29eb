"""What every line-oriented maintenance console has in common, driven by class attributes.

Vendors differ in words, not in shape: a login dialogue, a command that turns paging off,
one-line error replies with a code (one code meaning "programming locked"), a command
pair that takes and gives back the single programming session, and a logout with a
farewell. A vendor driver states its words and writes only its parsers and programs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import ClassVar, TypeVar

import structlog

from agent.line.errors import (
    AuthFailed,
    CommandRejected,
    InputError,
    ParseError,
    ProgrammingLocked,
    VerifyFailed,
)
from agent.line.secrets import Secret
from agent.line.transports.base import Credentials
from drivers.base import SETTINGS, Driver
from drivers.replies import bounded_lines, reading

log = structlog.get_logger(__name__)

T = TypeVar("T")
BadLines = list[tuple[int, str]]

LOGIN_TIMEOUT = 20.0
LOGOUT_TIMEOUT = 3.0


class ConsoleDriver(Driver):
    """A ``Driver`` for consoles that answer commands with text and a prompt."""

    username_prompt: ClassVar[str]
    password_prompt: ClassVar[str]
    login_refused: ClassVar[str]
    paging_off: ClassVar[str]
    #: An error reply; its group ``code`` is matched against ``locked_code``.
    error_reply: ClassVar[re.Pattern[str]]
    locked_code: ClassVar[str]
    enter_programming: ClassVar[str]
    leave_programming: ClassVar[str]
    logout: ClassVar[str]
    farewell: ClassVar[str]
    #: The vendor's settings-to-programs module: ``address``, ``to_pbx``, ``from_pbx``,
    #: ``parse_reply`` and ``normalise_backup`` (see drivers/panasonic/programs.py).
    programs: ClassVar[ModuleType]
    #: ``READ {address}`` / ``WRITE {address} = {value}`` and the full dump, in its words.
    read_template: ClassVar[str]
    write_template: ClassVar[str]
    dump_command: ClassVar[str]
    #: How a backup line separates ``program args`` from the value.
    backup_separator: ClassVar[str]
    #: Programs a restore never writes: the clock has moved on since the backup, and
    #: read-only assignments and counters cannot be written at all.
    volatile_programs: ClassVar[frozenset[str]] = frozenset()

    def open_session(self, credentials: Credentials) -> None:
        if not self.console.transport.authenticates:
            self._login(credentials)
        else:
            self.console.wait_for_prompt(self._login_wait())
        # Paging off first: every pager round trip holds the customer's line longer.
        self.run_command(self.paging_off)

    def _login_wait(self) -> float:
        """Each login wait, within the run's deadline for reaching the PBX (the runner
        sets ``transport.reach_by``): a silent console cannot hold the run past it."""
        reach_by = self.console.transport.reach_by
        if reach_by is None:
            return LOGIN_TIMEOUT
        return max(1.0, min(LOGIN_TIMEOUT, reach_by - time.monotonic()))

    def _login(self, credentials: Credentials) -> None:
        console = self.console
        console.wait_for([self.username_prompt + r"\Z"], self._login_wait(),
                         what="the login prompt")
        console.sendline(credentials.username or "")
        console.wait_for([self.password_prompt + r"\Z"], self._login_wait(),
                         what="the password prompt")
        if credentials.password is not None:
            console.send_secret(credentials.password)
        else:
            console.sendline("")
        index = console.wait_for([console.dialect.prompt + r"\Z", self.login_refused],
                                 self._login_wait(), what="the login result")
        if index == 1:
            raise AuthFailed("the PBX refused the maintenance login")

    def close_session(self) -> None:
        """Log out and wait for the farewell: the PBX has released the session (and any
        programming lock) before we drop the line, and nothing is left unread."""
        try:
            self.console.sendline(self.logout)
            self.console.wait_for([self.farewell], LOGOUT_TIMEOUT, what="the logout")
        except Exception as err:
            log.debug("logout incomplete", error=str(err))

    def run_command(self, command: str) -> str:
        """Run a console command; an error reply becomes a typed error."""
        output = self.console.command(command)
        error = self.error_reply.search(output)
        if error is not None:
            reply = error.group(0).strip()
            if error["code"] == self.locked_code:
                raise ProgrammingLocked(command, reply)
            raise CommandRejected(command, reply)
        return output

    def parsed(self, command: str, parser: Callable[[str], tuple[T | None, BadLines]],
               what: str) -> T:
        """Run a read-only command and parse it completely.

        A reply with unreadable lines is read once more: on a noisy line a hit inside a
        data line cannot be told from data, and asking again costs one round trip. A second
        bad reply is a ``ParseError`` naming the lines — never a silently partial answer.
        """
        value, bad = self.parse(parser, self.run_command(command), what)
        if bad or value is None:
            log.info("reply unreadable, asking again", command=command, bad_lines=len(bad))
            value, bad = self.parse(parser, self.run_command(command), what)
        if bad or value is None:
            raise ParseError(what, bounded_lines(bad))
        return value

    @staticmethod
    def parse(parser: Callable[[str], tuple[T, BadLines]], reply: str,
              what: str) -> tuple[T, BadLines]:
        """``parser(reply)``, where anything the parser did not foresee is a ``ParseError``
        with the raw reply (``drivers.replies``): an unexpected reply never crashes a run."""
        with reading(what, reply):
            return parser(reply)

    @contextmanager
    def programming(self) -> Iterator[None]:
        """Hold the PBX's single programming session for the block, always giving it back."""
        self.run_command(self.enter_programming)
        try:
            yield
        finally:
            self.run_command(self.leave_programming)

    def read_setting(self, key: str, target: str | None = None) -> str | None:
        if SETTINGS[key].write_only:
            return None
        address = self.programs.address(key, target)
        with self.programming():
            raw = self._read_program(address)
        with reading(f"{key} read back", raw):
            value: str = self.programs.from_pbx(key, raw)
        return value

    def write_setting(self, key: str, value: str, target: str | None = None) -> None:
        if SETTINGS[key].write_only:
            Secret(value)  # registered for redaction before it reaches the line
        address = self.programs.address(key, target)
        with self.programming():
            pbx_value = self.programs.to_pbx(key, value,
                                             current=lambda: self._read_program(address))
            self.run_command(self.write_template.format(address=address, value=pbx_value))

    def _read_program(self, address: str) -> str:
        reply = self.run_command(self.read_template.format(address=address))
        with reading(f"reply to {address}", reply):
            raw: str = self.programs.parse_reply(reply, address)
        return raw

    def backup(self) -> str:
        with self.programming():
            dump = self.run_command(self.dump_command)
        with reading("programming dump", dump):
            text: str = self.programs.normalise_backup(dump)
        return text

    def restore(self, backup: str, *, apply: bool = False) -> list[str]:
        """Bring the programming back to ``backup``; returns the lines that differ.

        Guarded: a backup naming programs this PBX does not have is refused (another
        site's file), nothing is written without ``apply``, write-only values (shown
        masked) and volatile programs are left alone. Verified: after writing, a fresh
        backup must show every restored line, or ``VerifyFailed`` names the ones that
        did not take.
        """
        wanted = self._restorable(backup)
        current = self._restorable(self.backup())
        foreign = sorted(set(wanted) - set(current))
        if foreign:
            raise InputError(f"backup names {len(foreign)} program(s) this PBX does not have "
                             f"(first: {foreign[0]}); is it from another site?")
        changes = [line for address, line in wanted.items() if current[address] != line]
        if apply and changes:
            self._write_lines(changes)
            after = self._restorable(self.backup())
            missed = [line for address, line in wanted.items() if after.get(address) != line]
            if missed:
                raise VerifyFailed(f"restore did not take for {len(missed)} line(s): "
                                   f"{'; '.join(missed[:3])}")
        return changes

    def _restorable(self, backup: str) -> dict[str, str]:
        lines: dict[str, str] = {}
        for line in backup.splitlines():
            address, sep, value = line.strip().partition(self.backup_separator)
            if not sep or value.strip("*") == "" or address.split()[0] in self.volatile_programs:
                continue
            lines[address] = line.strip()
        return lines

    def _write_lines(self, lines: list[str]) -> None:
        with self.programming():
            for line in lines:
                address, _sep, value = line.partition(self.backup_separator)
                self.run_command(self.write_template.format(address=address, value=value))
