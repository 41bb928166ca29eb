"""The SMDR layout a simulated PBX prints, as its installer would have set it.

Written from shared/DOMAIN.md ("SMDR as sites really print it"), independently of the
project's parsers: tests read what the simulator prints with those parsers, so the two
must not share one reading of the manuals. Panasonic KX-TDA/TDE/NS sites choose pattern
A, B or C, a 12- or 24-hour clock and the date order; the hybrid systems (KX-TA/TES/TD)
print one RS-232 format with ``M/D/YY`` and a 12-hour clock; Toshiba CTX/CIX prints the
R1.02 or R1.03 fields and Strata DK its printouts, with nothing else to choose.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.models import PANASONIC, TOSHIBA

#: Layout → (vendor, date orders it may print, clocks it may print). The first of each
#: is the layout's default.
LAYOUTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "A": (PANASONIC, ("DMY", "MDY"), ("24h", "12h")),
    "B": (PANASONIC, ("DMY", "MDY"), ("24h", "12h")),
    "C": (PANASONIC, ("DMY", "MDY"), ("24h", "12h")),
    "hybrid": (PANASONIC, ("MDY",), ("12h",)),
    "R1.02": (TOSHIBA, (), ()),
    "R1.03": (TOSHIBA, (), ()),
    "DK": (TOSHIBA, (), ()),
}
DEFAULT_LAYOUT = {PANASONIC: "A", TOSHIBA: "R1.02"}


@dataclass(frozen=True, slots=True)
class SmdrFormat:
    """A layout and, where it has them, its date order and clock (None: the default)."""

    layout: str
    date_order: str | None = None
    time: str | None = None

    @property
    def vendor(self) -> str:
        return LAYOUTS[self.layout][0]

    @property
    def day_first(self) -> bool:
        orders = LAYOUTS[self.layout][1]
        return (self.date_order or (orders[0] if orders else "DMY")) == "DMY"

    @property
    def twelve_hour(self) -> bool:
        clocks = LAYOUTS[self.layout][2]
        return (self.time or (clocks[0] if clocks else "24h")) == "12h"


def smdr_format(vendor: str, layout: str | None = None, date_order: str | None = None,
                time: str | None = None) -> SmdrFormat:
    """The format, or ValueError saying what the vendor's PBX cannot print."""
    name = layout or DEFAULT_LAYOUT.get(vendor, "")
    if name not in LAYOUTS:
        raise ValueError(f"unknown SMDR layout {name!r} (known: {', '.join(LAYOUTS)})")
    owner, orders, clocks = LAYOUTS[name]
    if owner != vendor:
        raise ValueError(f"SMDR layout {name} is printed by {owner} PBXs, not {vendor}")
    if date_order is not None and date_order not in orders:
        raise ValueError(f"SMDR layout {name} prints "
                         + (f"{'/'.join(orders)} dates only" if orders else "no date order"))
    if time is not None and time not in clocks:
        raise ValueError(f"SMDR layout {name} prints "
                         + (f"a {'/'.join(clocks)} clock only" if clocks else "no clock "
                            "choice"))
    return SmdrFormat(name, date_order, time)
