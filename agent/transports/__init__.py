"""One factory builds any line from a URL (``ssh://``, later telnet/serial/rfc2217/modem)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from agent.errors import InputError
from agent.transports.base import Credentials, Transport

__all__ = ["Credentials", "Transport", "transport_for_url"]


def transport_for_url(url: str, *, credentials: Credentials, known_hosts: Path | None = None,
                      connect_timeout: float = 10.0) -> Transport:
    """Build (not open) the transport a URL names; unknown schemes are bad input."""
    parts = urlsplit(url)
    if parts.scheme == "ssh":
        from agent.transports.ssh import SSHTransport

        if parts.hostname is None:
            raise InputError(f"ssh URL has no host: {url}")
        return SSHTransport(
            host=parts.hostname,
            port=parts.port or 22,
            credentials=Credentials(parts.username or credentials.username, credentials.password),
            known_hosts=known_hosts,
            connect_timeout=connect_timeout,
        )
    raise InputError(f"unsupported line type {parts.scheme!r} in {url!r} (supported: ssh)")

