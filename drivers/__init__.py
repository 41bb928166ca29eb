"""Vendor drivers, found by name through the ``pbxdiag.drivers`` entry-point group.

A third party (or a real site's dialect) plugs in by declaring an entry point in its own
package; nothing in pbxdiag needs editing.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from agent.line.errors import DriverNotFound
from drivers.base import Driver

ENTRY_POINT_GROUP = "pbxdiag.drivers"


def available_drivers() -> dict[str, type[Driver]]:
    found: dict[str, type[Driver]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        driver = entry.load()
        if isinstance(driver, type) and issubclass(driver, Driver):
            found[entry.name] = driver
    return found


def driver_class(vendor: str) -> type[Driver]:
    drivers = available_drivers()
    try:
        return drivers[vendor]
    except KeyError:
        known = ", ".join(sorted(drivers)) or "none installed"
        raise DriverNotFound(f"no driver for vendor {vendor!r} (known: {known})") from None
