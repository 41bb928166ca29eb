"""RFC 2217 line, ``rfc2217://host:port``: a terminal server that carries the port settings.

pyserial's ``rfc2217://`` on the serial transport; the serial options (baud, parity, …)
are sent to the far port, and ``wake`` is sent after opening as on a local port.
"""

from __future__ import annotations

from agent.line.transports.base import Transport
from agent.line.transports.options import LineRequest
from agent.line.transports.serial import SerialTransport, serial_settings, wake_bytes


def from_url(line: LineRequest) -> Transport:
    """``rfc2217://host:port[?serial options]`` (the port is required)."""
    host, port = line.host_port(None)
    return SerialTransport(port_url=f"rfc2217://{host}:{port}",
                           display_url=f"rfc2217://{host}:{port}",
                           settings=serial_settings(line.options),
                           connect_timeout=line.connect_timeout, exclusive=False,
                           wake=wake_bytes(line.options))
