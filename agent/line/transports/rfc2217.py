"""RFC 2217 line, ``rfc2217://host:port``: a terminal server (ser2net, Digi, Lantronix).

pyserial's RFC 2217 client (``rfc2217_port.py``) on the serial transport. The terminal
server owns its port's settings, so baud, data bits, parity, stop bits and flow control
are sent only when the URL (or the site) names them — only the ones it names; a URL
without any keeps the far port exactly as the server has it. pyserial's own URL options
pass through: ``ign_set_control`` (a server that never answers SET-CONTROL — ser2net on
a port without modem-control lines), ``poll_modem`` (ask for the modem state when CD is
read), ``logging`` (pyserial's protocol log level) and ``timeout`` (seconds to wait for
each negotiation answer; the site's ``timeout`` when the URL has none). ``wake`` is sent
after opening, as on a local port.
"""

from __future__ import annotations

from urllib.parse import urlencode

from agent.line.errors import InputError
from agent.line.transports.base import Transport
from agent.line.transports.options import LineOptions, LineRequest
from agent.line.transports.rfc2217_port import Rfc2217Port
from agent.line.transports.serial import SerialTransport, serial_settings, wake_bytes

#: URL option → the pyserial subnegotiation it pushes.
PUSHED_BY = {"baud": "baudrate", "databits": "datasize", "parity": "parity",
             "stopbits": "stopsize", "xonxoff": "flow", "rtscts": "flow"}
LOG_LEVELS = ("debug", "info", "warning", "error")


def from_url(line: LineRequest) -> Transport:
    """``rfc2217://host:port[?options]`` (the port is required)."""
    opts = line.options
    host, port = line.host_port(None)
    push = frozenset(PUSHED_BY[name] for name in PUSHED_BY if opts.given(name))
    settings = serial_settings(opts)
    url = f"rfc2217://{host}:{port}"
    pyserial_url = f"{url}?{urlencode(pyserial_options(opts, line.connect_timeout))}"
    return SerialTransport(port_url=pyserial_url, display_url=url,
                           settings=settings if push else None,
                           connect_timeout=line.connect_timeout, exclusive=False,
                           wake=wake_bytes(opts),
                           make_port=lambda: Rfc2217Port(pyserial_url, push=push))


def pyserial_options(opts: LineOptions, default_timeout: float) -> dict[str, str]:
    """pyserial's own RFC 2217 URL options, checked here so a typo is bad input."""
    chosen = {"timeout": f"{opts.number('timeout', default_timeout, minimum=0.1):g}"}
    if opts.flag("ign_set_control", bare=True):
        chosen["ign_set_control"] = ""
    if opts.flag("poll_modem", bare=True):
        chosen["poll_modem"] = ""
    level = opts.text("logging")
    if level is not None:
        if level.lower() not in LOG_LEVELS:
            raise InputError(f"option logging={level!r} in {opts.url}: expected one of "
                             f"{', '.join(LOG_LEVELS)}")
        chosen["logging"] = level.lower()
    return chosen
