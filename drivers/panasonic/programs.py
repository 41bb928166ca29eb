"""Vendor-neutral settings mapped to Panasonic programs (docs/dialects/panasonic.md).

The mapping is ``drivers.programs_base``; this module states Panasonic's words: program
numbers, ``nnn args = value`` replies, DD/MM/YY clock, two-digit CO line numbers.
"""

from __future__ import annotations

from drivers.programs_base import ProgramMap

PROGRAMS = ProgramMap(
    programs={
        "clock": "000",
        "extension_name": "004",
        "extension_pin": "005",
        "time_service_mode": "101",
        "time_service_switching": "101",
        "trunk_state": "410",
        "extension_forward": "711",
    },
    separator=" = ",
    read_verb="READ",
    clock_format="%d/%m/%y %H:%M:%S",
    modes={"day": "DAY", "night": "NIGHT", "lunch": "LUNCH", "break": "BREAK",
           "holiday": "HOLIDAY"},
    mode_program="time service program 101",
    trunk_states={"in_service": "INS", "busied_out": "OUS"},
    trunk_word="CO line number",
    trunk_max=99,
    extension_word="extension number",
    name_rule="an extension name of at most 16 characters without '\"'",
)

# The module is the driver's ``programs``: ``ConsoleDriver`` calls these by name.
address = PROGRAMS.address
parse_reply = PROGRAMS.parse_reply
from_pbx = PROGRAMS.from_pbx
to_pbx = PROGRAMS.to_pbx
normalise_backup = PROGRAMS.normalise_backup
