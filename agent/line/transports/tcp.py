"""Raw TCP line, ``tcp://host:port``: a terminal server's raw port in front of a console.

Bytes only, no negotiation, so it is pyserial's ``socket://`` on the serial transport;
the only option is ``wake`` (a serial console wakes on a key press, so does one behind a
terminal server). The port is never locked: a socket is not a device two jobs share.
"""

from __future__ import annotations

from agent.line.transports.base import Transport
from agent.line.transports.options import LineRequest
from agent.line.transports.serial import SerialTransport, wake_bytes


def from_url(line: LineRequest) -> Transport:
    """``tcp://host:port`` (the port is required: raw ports have no standard number)."""
    host, port = line.host_port(None)
    return SerialTransport(port_url=f"socket://{host}:{port}", display_url=f"tcp://{host}:{port}",
                           connect_timeout=line.connect_timeout, exclusive=False,
                           wake=wake_bytes(line.options))
