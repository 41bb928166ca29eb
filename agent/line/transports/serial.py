"""Serial lines through pyserial: a local port, an RFC 2217 terminal server, raw TCP.

pyserial already speaks all three (``serial_for_url``); this module only maps the
transport contract onto it: ``read`` returns what has arrived (``b""`` at the deadline),
and a port that goes away raises ``LineDropped``. It builds ``serial://`` lines and holds
the options every pyserial line shares (``serial_settings``, ``wake_bytes``); ``tcp.py`` and
``rfc2217.py`` build the other two schemes on the same transport.

One pyserial cost is avoided on purpose: assigning ``Serial.timeout`` reconfigures the
port, which for RFC 2217 is a network round trip with pyserial's own 50 ms polling sleep.
Ports with a file descriptor (local ports, raw TCP) are read non-blocking after a
``poll`` with the deadline; for RFC 2217 the read deadline is set without
reconfiguring (pyserial reads it from ``_timeout`` and nothing else changes).
"""

from __future__ import annotations

import contextlib
import io
import math
import select
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

import serial
import structlog

from agent.line.errors import ConnectFailed, InputError, LineDropped
from agent.line.transports.base import Transport
from agent.line.transports.options import LineOptions, LineRequest

if TYPE_CHECKING:
    from serial import rfc2217

log = structlog.get_logger(__name__)

PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD,
            "M": serial.PARITY_MARK, "S": serial.PARITY_SPACE}
STOP_BITS = {"1": serial.STOPBITS_ONE, "1.5": serial.STOPBITS_ONE_POINT_FIVE,
             "2": serial.STOPBITS_TWO}
DATA_BITS = {5: serial.FIVEBITS, 6: serial.SIXBITS, 7: serial.SEVENBITS, 8: serial.EIGHTBITS}
DEFAULT_BAUD = 9600


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """RS-232 parameters (Panasonic: 1200–9600 baud, 7/8 bits, parity N/O/E/M/S, 1/2 stop)."""

    baud: int = DEFAULT_BAUD
    data_bits: int = 8
    parity: str = "N"
    stop_bits: str = "1"
    xonxoff: bool = False
    rtscts: bool = False

    def __post_init__(self) -> None:
        if self.baud <= 0:
            raise InputError(f"baud must be positive, not {self.baud}")
        if self.data_bits not in DATA_BITS:
            raise InputError(f"data bits must be 5–8, not {self.data_bits}")
        if self.parity not in PARITIES:
            raise InputError(f"parity must be one of {', '.join(PARITIES)}, not {self.parity!r}")
        if self.stop_bits not in STOP_BITS:
            raise InputError(f"stop bits must be 1, 1.5 or 2, not {self.stop_bits!r}")

    def describe(self) -> str:
        flow = "xonxoff" if self.xonxoff else "rtscts" if self.rtscts else "none"
        return f"{self.baud} {self.data_bits}{self.parity}{self.stop_bits} flow={flow}"


class SerialPort(Protocol):
    """What we use of a pyserial port (the stubs type ``serial_for_url`` as SerialBase)."""

    _timeout: float | None  # read deadline; assigning ``timeout`` would reconfigure
    dtr: bool

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def close(self) -> None: ...

    def fileno(self) -> int: ...

    @property
    def in_waiting(self) -> int: ...

    @property
    def cd(self) -> bool: ...


class SerialTransport(Transport):
    """Any pyserial URL: a device path, ``rfc2217://host:port``, ``socket://host:port``.

    ``settings=None`` leaves the port's settings alone (a terminal server's own, see
    ``rfc2217.py``); ``make_port`` builds the pyserial port where ``serial_for_url``
    would not build the right one (the RFC 2217 client of ``rfc2217_port.py``)."""

    def __init__(self, *, port_url: str, display_url: str,
                 settings: SerialSettings | None = SerialSettings(),
                 connect_timeout: float = 10.0, exclusive: bool = True, wake: bytes = b"",
                 make_port: Callable[[], rfc2217.Serial] | None = None) -> None:
        super().__init__()
        self.port_url = port_url
        self._display_url = display_url
        self.settings = settings
        self._make_port = make_port
        self.connect_timeout = connect_timeout
        self.exclusive = exclusive
        self.wake = wake
        self._port: SerialPort | None = None
        self._fd: int | None = None

    @property
    def display_url(self) -> str:
        return self._display_url

    @property
    def is_open(self) -> bool:
        return self._port is not None

    @property
    def port(self) -> SerialPort:
        """The open pyserial port (the modem transport drives DTR and reads DCD on it)."""
        if self._port is None:
            raise LineDropped(f"serial line {self.display_url} is not open")
        return self._port

    def open(self) -> None:
        try:
            port = (self._make_port() if self._make_port is not None
                    else serial.serial_for_url(self.port_url, do_not_open=True))
            self._configure(port)
            port.open()
        except (serial.SerialException, OSError, ValueError) as err:
            raise ConnectFailed(f"cannot open {self.display_url}: {err}") from None
        self._port = cast(SerialPort, port)
        self._fd = _fileno(self._port)
        if self.wake:
            # A console on a serial port does not know a client has arrived until a key
            # is pressed; pyserial also discards input on open, so a banner would be lost.
            try:
                self.write(self.wake)
            except LineDropped as err:
                self.close()
                raise ConnectFailed(str(err)) from None

    def _configure(self, port: serial.SerialBase) -> None:
        s = self.settings
        if s is not None:
            port.baudrate = s.baud
            port.bytesize = DATA_BITS[s.data_bits]
            port.parity = PARITIES[s.parity]
            port.stopbits = STOP_BITS[s.stop_bits]
            port.xonxoff = s.xonxoff
            port.rtscts = s.rtscts
        port.write_timeout = None
        # Set before open (assigning it later reconfigures the port): non-blocking where we
        # poll() a descriptor; per-read deadline for RFC 2217 (see module docstring).
        port.timeout = None if self.port_url.startswith("rfc2217:") else 0
        if self.exclusive and isinstance(port, serial.Serial):
            port.exclusive = True  # one job per line: a second opener is refused (flock)

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        port = self.port
        try:
            if self._fd is not None:
                return port.read(max_bytes) if _readable(self._fd, timeout) else b""
            port._timeout = timeout  # see the module docstring
            first = port.read(1)
            if not first:
                self._raise_if_lost(port)
                return b""
            port._timeout = None
            waiting = min(port.in_waiting, max_bytes - 1)
            return first + port.read(waiting) if waiting > 0 else first
        except (serial.SerialException, OSError) as err:
            raise LineDropped(f"serial line {self.display_url} dropped: {err}") from None

    def _raise_if_lost(self, port: SerialPort) -> None:
        """An RFC 2217 port whose reader thread has ended says why (``Rfc2217Port.lost``):
        the drop is reported at once, typed, instead of as a quiet read."""
        lost: str | None = getattr(port, "lost", None)
        if lost is not None:
            log.warning("line dropped", url=self.display_url, error=lost)
            raise LineDropped(f"serial line {self.display_url} dropped: {lost}")

    def _write(self, data: bytes) -> None:
        port = self.port
        try:
            port.write(data)
        except (serial.SerialException, OSError) as err:
            raise LineDropped(f"serial line {self.display_url} dropped: {err}") from None

    def close(self) -> None:
        port, self._port = self._port, None
        self._fd = None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()


def _readable(fd: int, timeout: float) -> bool:
    """Wait for input (or a hang-up) with a deadline; poll, so any fd number works."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(math.ceil(timeout * 1000)))


def _fileno(port: SerialPort) -> int | None:
    """The port's file descriptor, or None where pyserial has none (RFC 2217)."""
    try:
        fd: int = port.fileno()
    except (AttributeError, io.UnsupportedOperation, OSError):
        return None
    return fd


def serial_settings(opts: LineOptions) -> SerialSettings:
    """The RS-232 options (``baud``, ``databits``, ``parity``, ``stopbits``, flow control)."""
    return SerialSettings(
        baud=opts.integer("baud", DEFAULT_BAUD, minimum=1),
        data_bits=opts.integer("databits", 8),
        parity=(opts.text("parity", "N") or "N").upper(),
        stop_bits=opts.text("stopbits", "1") or "1",
        xonxoff=opts.flag("xonxoff"), rtscts=opts.flag("rtscts"))


def wake_bytes(opts: LineOptions) -> bytes:
    """What to send right after opening (CR unless the site says otherwise; see the docs)."""
    return (opts.text("wake", "\r") or "").encode("latin-1", errors="replace")


def from_url(line: LineRequest) -> Transport:
    """``serial:///dev/ttyUSB0[?options]``: a local port, locked unless ``exclusive=0``."""
    opts = line.options
    device = line.device()
    return SerialTransport(port_url=device, display_url=f"serial://{device}",
                           settings=serial_settings(opts), connect_timeout=line.connect_timeout,
                           exclusive=opts.flag("exclusive", True), wake=wake_bytes(opts))
