"""The Hayes AT vocabulary: result codes, S-register defaults, the settings ``ATZ`` resets.

Apart from the modem's firmware (``modem.py``) because it is a table of the Hayes
standard, not behaviour: the firmware reads these when it answers and dials.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OK, CONNECT, RING, NO_CARRIER, ERROR, NO_DIALTONE, BUSY, NO_ANSWER = 0, 1, 2, 3, 4, 6, 7, 8
RESULT_TEXT = {OK: "OK", CONNECT: "CONNECT", RING: "RING", NO_CARRIER: "NO CARRIER",
               ERROR: "ERROR", NO_DIALTONE: "NO DIALTONE", BUSY: "BUSY",
               NO_ANSWER: "NO ANSWER"}
#: Numeric codes of ``CONNECT <speed>`` (the common USRobotics/Hayes table).
CONNECT_CODES = {300: 1, 1200: 5, 2400: 10, 4800: 11, 9600: 12, 7200: 13, 12000: 14,
                 14400: 15, 19200: 16, 38400: 17, 57600: 18, 115200: 19, 600: 9}
UNPACED_CONNECT_SPEED = 9600  # what an unpaced call reports

DEFAULT_REGISTERS = {0: 0, 2: 43, 3: 13, 4: 10, 5: 8, 7: 50, 12: 50}
MAX_COMMAND = 64  # a Hayes command buffer is small; longer lines answer ERROR


@dataclass(slots=True)
class Settings:
    """What ``ATZ`` resets: echo, verbose and quiet results, the X level, S-registers."""

    echo: bool = True
    verbose: bool = True
    quiet: bool = False
    x_level: int = 4
    registers: dict[int, int] = field(default_factory=lambda: dict(DEFAULT_REGISTERS))


class CommandError(Exception):
    """An AT command the modem does not accept: the line answers ``ERROR``."""


def read_number(body: str, i: int) -> tuple[int, int]:
    """Parse the decimal digits at ``body[i:]`` (none means 0); (next index, value)."""
    start = i
    while i < len(body) and body[i].isdigit():
        i += 1
    return i, int(body[start:i]) if i > start else 0
