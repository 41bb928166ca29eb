"""Vendor-neutral settings mapped to Toshiba Strata programs (docs/dialects/toshiba.md).

The mapping is ``drivers.programs_base``; this module states Toshiba's words: program
numbers, ``nnn [args] : value`` replies, MM/DD/YY clock, three-digit trunk numbers,
DAY2/DAY3 for lunch and break.
"""

from __future__ import annotations

from drivers.programs_base import ProgramMap

PROGRAMS = ProgramMap(
    programs={
        "clock": "102",
        "time_service_mode": "106",
        "time_service_switching": "106",
        "extension_name": "200",
        "extension_pin": "201",
        "extension_forward": "210",
        "trunk_state": "300",
    },
    separator=" : ",
    read_verb="GET",
    clock_format="%m/%d/%y %H:%M:%S",
    modes={"day": "DAY", "lunch": "DAY2", "break": "DAY3", "night": "NIGHT",
           "holiday": "HOLIDAY"},
    mode_program="day/night program 106",
    trunk_states={"in_service": "IN-SVC", "busied_out": "OUT-SVC"},
    trunk_word="trunk number",
    trunk_max=999,
    extension_word="station PDN",
    name_rule="a station name of at most 16 characters, no double quote",
)

# The module is the driver's ``programs``: ``ConsoleDriver`` calls these by name.
address = PROGRAMS.address
parse_reply = PROGRAMS.parse_reply
from_pbx = PROGRAMS.from_pbx
to_pbx = PROGRAMS.to_pbx
normalise_backup = PROGRAMS.normalise_backup
