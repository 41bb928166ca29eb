"""Panasonic KX-TDA / KX-TDE / KX-NS driver over the dialect in docs/dialects/panasonic.md."""

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
from drivers.panasonic import parsers
from drivers.panasonic import programs as panasonic_programs
from drivers.panasonic.smdr import parse_smdr
from drivers.recovery import pair_recoveries
from drivers.replies import bounded_lines, reading


def since_argument(since: datetime | None) -> str:
    return f" SINCE {since:%d/%m/%y %H:%M}" if since is not None else ""


class PanasonicDriver(ConsoleDriver):
    vendor = "panasonic"
    # KX-TDA / TDE / TDA50 / TDA600 / NS main boards; V-… are the KX-NS virtual cards.
    processor_cards: ClassVar[frozenset[str]] = frozenset({
        "MPR", "IPCMPR", "PSMPR", "PLMPR", "NS-MB"})
    extension_cards: ClassVar[frozenset[str]] = frozenset({
        "DHLC", "DLC", "SLC", "MSLC", "MCSLC", "CSIF", "IP-EXT", "DPT", "V-IPEXT", "V-SIPEXT"})
    trunk_cards: ClassVar[frozenset[str]] = frozenset({
        "LCOT", "DID", "E&M", "T1", "E1", "BRI", "PRI", "IP-GW", "V-IPGW", "V-SIPGW"})
    dialect = ConsoleDialect(
        prompt=r"KX-[A-Z0-9]+(?:\(PRG\))?> ",
        pager=r"-- More -- ",
        pager_answer=b" ",
        line_ending=b"\r",
        pbx_line_ending=b"\r\n",
        encoding="ascii",
    )
    username_prompt = r"Login: "
    password_prompt = r"Password: "  # noqa: S105 - a prompt pattern, not a password
    login_refused = r"LOGIN INCORRECT"
    paging_off = "PAGE OFF"
    error_reply = re.compile(r"^ERROR (?P<code>\d\d): (?P<text>.*)$", re.MULTILINE)
    locked_code = "03"
    enter_programming = "PRG"
    leave_programming = "END"
    logout = "EXIT"
    programs: ClassVar[ModuleType] = panasonic_programs
    read_template = "READ {address}"
    write_template = "WRITE {address} = {value}"
    backup_separator = " = "
    volatile_programs = frozenset({"000"})
    dump_command = "DUMP"
    farewell = r"BYE"

    # --- getters ----------------------------------------------------------------------

    def system_info(self) -> SystemInfo:
        return self.parsed("VER", parsers.parse_version, "system information")

    def alarms(self) -> list[Alarm]:
        return self.parsed("ALM", parsers.parse_alarms, "active alarms")

    def error_log(self, since: datetime | None = None) -> list[Alarm]:
        return pair_recoveries(self.parsed(f"ERR{since_argument(since)}",
                                           parsers.parse_error_log, "error log"))

    def cards(self) -> list[Card]:
        return self.parsed("CARD", parsers.parse_cards, "card list")

    def trunks(self) -> list[Trunk]:
        return self.parsed("CO", parsers.parse_trunks, "CO line list")

    def extensions(self) -> list[Extension]:
        return self.parsed("EXT", parsers.parse_extensions, "extension list")

    def operating_mode(self) -> OperatingMode:
        return self.parsed("MODE", parsers.parse_mode, "time service mode")

    def call_records(self, since: datetime | None = None) -> list[CallRecord]:
        reply = self.run_command(f"SMDR{since_argument(since)}")
        with reading("SMDR records", reply):
            records, _alarms, bad = parse_smdr(reply)
        if bad:
            raise ParseError("SMDR records", bounded_lines(bad))
        return records
