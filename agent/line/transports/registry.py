"""Which builder makes the line a URL scheme names: entry points, or registered in-process.

Like the vendor drivers (``pbxdiag.drivers``), a scheme is an entry point in the
``pbxdiag.transports`` group, so a third party adds a line type (an X.25 PAD, a vendor's
proprietary LAN card) from its own package with nothing in pbxdiag edited; the built-in
schemes are declared the same way in pyproject.toml. ``register_transport`` does the
same in-process, for a test or an application embedding pbxdiag, and wins over an entry
point of the same name.

Only the names are read to list the schemes; a builder's module is imported when a URL
of its scheme is built, so reading a serial line never imports paramiko.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import cast

from agent.line.transports.base import Transport
from agent.line.transports.options import LineRequest

ENTRY_POINT_GROUP = "pbxdiag.transports"

#: Builds (does not open) the transport for one URL; it reads the options it knows.
Builder = Callable[[LineRequest], Transport]

_REGISTERED: dict[str, Builder] = {}

#: The built-in schemes in the order messages and docs list them (network lines first,
#: the modem last, as a site's paths usually go). setuptools writes an entry-point group
#: sorted by name, so the order of pyproject.toml does not survive installation.
_LISTED_FIRST = ("ssh", "telnet", "tcp", "rfc2217", "serial", "modem")


def register_transport(scheme: str, builder: Builder) -> None:
    """Make ``scheme://`` URLs build with ``builder`` in this process."""
    _REGISTERED[scheme] = builder


def unregister_transport(scheme: str) -> None:
    """Undo ``register_transport`` (an entry point of that name is found again)."""
    _REGISTERED.pop(scheme, None)


def schemes() -> tuple[str, ...]:
    """Every scheme a URL may use: the built-in ones first, then plug-ins as found."""
    found = dict.fromkeys([*(entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)),
                           *_REGISTERED])
    first = [name for name in _LISTED_FIRST if name in found]
    return (*first, *(name for name in found if name not in first))


def builder_for(scheme: str) -> Builder | None:
    """The builder for ``scheme``, loading its module now; None when nothing provides it."""
    registered = _REGISTERED.get(scheme)
    if registered is not None:
        return registered
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=scheme):
        loaded = entry.load()
        if callable(loaded):
            return cast(Builder, loaded)
    return None
