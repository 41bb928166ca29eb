"""One factory builds any line from a URL; see docs/transports.md for every form.

``ssh://user@host:22``, ``telnet://host:23``, ``tcp://host:port``, ``rfc2217://host:port``,
``serial:///dev/ttyUSB0?baud=9600&parity=N``, ``modem:///dev/ttyUSB0?number=599``.
Each scheme is one module next to its transport (``ssh.py``, ``telnet.py``, ``tcp.py``,
``rfc2217.py``, ``serial.py``, ``modem.py``), found through the registry
(``registry.py``), which a plug-in extends. Options come from the URL's query string and
from keyword arguments (a site's settings); a keyword argument wins over the same name
in the query. An option a line does not know is bad input, named with the options that
line does know — a typo in an inventory must not silently fall back to a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from agent.line.errors import InputError
from agent.line.transports.base import Credentials, Transport
from agent.line.transports.options import LineOptions, LineRequest
from agent.line.transports.registry import builder_for, register_transport, schemes

__all__ = ["Credentials", "LineOptions", "LineRequest", "Transport", "register_transport",
           "schemes", "transport_for_url"]


def transport_for_url(url: str, *, credentials: Credentials, known_hosts: Path | None = None,
                      connect_timeout: float = 10.0, **options: Any) -> Transport:
    """Build (not open) the transport a URL names; unknown schemes are bad input."""
    parts = urlsplit(url)
    shown = _without_password(parts)
    builder = builder_for(parts.scheme)
    if builder is None:
        raise InputError(f"unsupported line type {parts.scheme!r} in {shown!r} "
                         f"(supported: {', '.join(schemes())})")
    values: dict[str, Any] = dict(parse_qs(parts.query, keep_blank_values=True))
    values.update(options)
    opts = LineOptions(shown, values)
    transport = builder(LineRequest(parts, opts, credentials, known_hosts, connect_timeout))
    opts.reject_unknown(parts.scheme)
    return transport


def _without_password(parts: SplitResult) -> str:
    """The URL as it may appear in a message: a password in it is never repeated."""
    if parts.password is None:
        return parts.geturl()
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{user}{host}{port}").geturl()
