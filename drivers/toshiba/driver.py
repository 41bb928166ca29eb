"""Toshiba Strata CTX / CIX driver over the dialect in docs/dialects/toshiba.md."""

from __future__ import annotations

import re
from datetime import datetime
from types import ModuleType
from typing import ClassVar

from agent.line.console import ConsoleDialect
from agent.line.errors import ParseError
from drivers.console_driver import ConsoleDriver
from drivers.model import (
    Alarm,
    CallRecord,
    Card,
    Extension,
    OperatingMode,
    SystemInfo,
    Trunk,
)
from drivers.recovery import pair_recoveries
from drivers.replies import bounded_lines, moment, reading, unexpected
from drivers.toshiba import parsers
from drivers.toshiba import programs as toshiba_programs
from drivers.toshiba.smdr import parse_smdr

_SYSTEM_TIME = re.compile(r"SYSTEM TIME : (\d\d/\d\d/\d\d) [A-Z]{3} (\d\d:\d\d:\d\d)", re.ASCII)


def from_argument(since: datetime | None) -> str:
    return f" FROM {since:%m/%d/%y %H:%M}" if since is not None else ""


class ToshibaDriver(ConsoleDriver):
    vendor = "toshiba"
    # Strata CTX100 / CTX670 processors.
    processor_cards: ClassVar[frozenset[str]] = frozenset({"ACTU", "BECU", "BCTU", "BEXU"})
    extension_cards: ClassVar[frozenset[str]] = frozenset({
        "PDKU", "BDKU", "BDKS", "ADKU", "PEKU", "PESU", "PSTU", "RSTU"})
    trunk_cards: ClassVar[frozenset[str]] = frozenset({
        "RCOU", "RCOS", "RCIU", "RCIS", "RDDU", "REMU", "RDTU", "RPTU", "BPTU", "RBSU", "RBUU",
        "BVPU", "BIPU"})
    dialect = ConsoleDialect(
        prompt=r"STRATA-(?:CTX|CIX)\d+(?:\(PGM\))?# ",
        pager=r"-- \[C\]ONTINUE \[Q\]UIT --",
        pager_answer=b"C",
        line_ending=b"\r",
        pbx_line_ending=b"\r",
        encoding="ascii",
    )
    username_prompt = r"Username: "
    password_prompt = r"Password: "  # noqa: S105 - a prompt pattern, not a password
    login_refused = r"ACCESS DENIED"
    paging_off = "SET LENGTH 0"
    error_reply = re.compile(r"^\?ERR (?P<code>\d\d) (?P<text>.*)$", re.MULTILINE)
    locked_code = "03"
    enter_programming = "PGM"
    leave_programming = "END"
    logout = "LOGOUT"
    programs: ClassVar[ModuleType] = toshiba_programs
    read_template = "GET {address}"
    write_template = "PUT {address} {value}"
    backup_separator = " : "
    volatile_programs = frozenset({"100", "102", "919"})
    dump_command = "LIST"
    farewell = r"GOODBYE"

    # --- getters ----------------------------------------------------------------------

    def system_info(self) -> SystemInfo:
        return self.parsed("SHOW VERSION", parsers.parse_version, "system information")

    def alarms(self) -> list[Alarm]:
        return self.parsed("SHOW ALARM", parsers.parse_alarms, "active alarms")

    def error_log(self, since: datetime | None = None) -> list[Alarm]:
        return pair_recoveries(self.parsed(f"SHOW ALARM HISTORY{from_argument(since)}",
                                           parsers.parse_alarm_history, "alarm history"))

    def cards(self) -> list[Card]:
        return self.parsed("SHOW PCB", parsers.parse_pcbs, "PCB list")

    def trunks(self) -> list[Trunk]:
        return self.parsed("SHOW TRUNK", parsers.parse_trunks, "trunk list")

    def extensions(self) -> list[Extension]:
        return self.parsed("SHOW STATION", parsers.parse_stations, "station list")

    def operating_mode(self) -> OperatingMode:
        return self.parsed("SHOW MODE", parsers.parse_mode, "day/night mode")

    def call_records(self, since: datetime | None = None) -> list[CallRecord]:
        today = self._pbx_date()
        reply = self.run_command(f"SHOW SMDR{from_argument(since)}")
        with reading("SMDR records", reply):
            records, bad = parse_smdr(reply, today=today.date())
        if bad:
            raise ParseError("SMDR records", bounded_lines(bad))
        return records

    def _pbx_date(self) -> datetime:
        """SMDR stamps carry no year: the PBX's own clock supplies it."""
        reply = self.run_command("SHOW TIME")
        match = _SYSTEM_TIME.search(reply)
        if match is None:
            raise unexpected("system time", reply)
        return moment(f"{match[1]} {match[2]}", "%m/%d/%y %H:%M:%S", "system time")
