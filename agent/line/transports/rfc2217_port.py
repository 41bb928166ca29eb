"""pyserial's RFC 2217 client, changed in the two places a real terminal server needs.

1. **Only the settings the site gave are pushed.** pyserial's ``open`` always sends baud,
   data bits, parity, stop bits and the flow control, and waits for every answer. On a
   terminal server the port's settings are the server's (ser2net's config, a Digi's
   port setup): pushing 9600 8N1 onto a 1200 7E1 console garbles it for the session,
   and some servers never answer a SET-CONTROL at all. ``push`` names the settings to
   send; an empty set sends none and keeps the far port as it is.
2. **The reader thread never dies with a traceback.** pyserial reads the socket in a
   thread; when the server closes during the negotiation the thread's own write fails
   and Python prints the traceback on the user's terminal. Here the thread records why
   it ended (``lost``) and the transport raises a typed ``LineDropped`` from it.

Everything else is pyserial's, so its URL options (``ign_set_control``, ``logging``,
``timeout``, ``poll_modem``) keep their documented meaning.
"""

from __future__ import annotations

import queue
import struct
import threading
import time
from collections.abc import Iterable

import serial
import structlog
from serial import rfc2217

log = structlog.get_logger(__name__)

#: The names ``push`` may hold: pyserial's subnegotiation names, and ``flow``.
SETTINGS = ("baudrate", "datasize", "parity", "stopsize", "flow")
_POLL = 0.02  # seconds between checks for the server's acknowledgements


class Rfc2217Port(rfc2217.Serial):
    """An RFC 2217 port that pushes only ``push`` and reports a lost connection typed."""

    # pyserial's private state, which its type stubs leave out.
    _socket: object | None
    _rfc2217_port_settings: dict[str, rfc2217.TelnetSubnegotiation]
    _network_timeout: float
    _read_buffer: queue.Queue[bytes | None]

    def __init__(self, url: str, *, push: Iterable[str]) -> None:
        super().__init__(None)
        self.port = url
        self.push = frozenset(push)
        unknown = self.push - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown RFC 2217 settings {sorted(unknown)}")
        self.lost: str | None = None  # why the connection ended, once it has
        self._lost_lock = threading.Lock()

    def open(self) -> None:
        """pyserial's; a connection that died during the negotiation says so."""
        try:
            super().open()
        except serial.SerialException as err:
            if self.lost is not None:
                raise serial.SerialException(f"{self.lost} during the negotiation") from err
            raise

    def _reconfigure_port(self) -> None:
        """pyserial's, restricted to ``push`` (it also runs when a setting is assigned to an
        open port, which the transport never does)."""
        if self._socket is None:
            raise serial.SerialException("Can only operate on open ports")
        values = {
            "baudrate": struct.pack("!I", self.baudrate),
            "datasize": struct.pack("!B", self.bytesize),
            "parity": struct.pack("!B", rfc2217.RFC2217_PARITY_MAP[self.parity]),
            "stopsize": struct.pack("!B", rfc2217.RFC2217_STOPBIT_MAP[self.stopbits]),
        }
        items = [self._rfc2217_port_settings[name] for name in values if name in self.push]
        for item in items:
            item.set(values[item.name])
        self._await(items)
        if "flow" in self.push:
            if self.rtscts:
                self.rfc2217_set_control(rfc2217.SET_CONTROL_USE_HW_FLOW_CONTROL)
            elif self.xonxoff:
                self.rfc2217_set_control(rfc2217.SET_CONTROL_USE_SW_FLOW_CONTROL)
            else:
                self.rfc2217_set_control(rfc2217.SET_CONTROL_USE_NO_FLOW_CONTROL)

    def _await(self, items: list[rfc2217.TelnetSubnegotiation]) -> None:
        """Wait, up to pyserial's network timeout, for the server to confirm ``items``."""
        deadline = time.monotonic() + self._network_timeout
        while not all(item.active for item in items):
            if time.monotonic() >= deadline:
                refused = ", ".join(item.name for item in items if not item.active)
                raise serial.SerialException(
                    f"the terminal server did not accept the port settings ({refused}) "
                    f"within {self._network_timeout:g}s")
            if self.lost is not None:
                raise serial.SerialException(self.lost)
            # pyserial's reader thread sets ``active``; there is no event to wait on.
            threading.Event().wait(_POLL)

    def _update_dtr_state(self) -> None:
        """DTR/RTS are modem-control lines: sent only when the site pushes settings
        (a pty or a port without those lines never answers them)."""
        if self.push:
            super()._update_dtr_state()  # type: ignore[misc]  # private: not in the stubs

    def _update_rts_state(self) -> None:
        if self.push:
            super()._update_rts_state()  # type: ignore[misc]

    def _telnet_read_loop(self) -> None:
        try:
            super()._telnet_read_loop()  # type: ignore[misc]
        except Exception as err:  # the thread's last words, kept typed
            self._mark_lost(f"the terminal server connection failed: {err}")
            log.warning("RFC 2217 line failed", url=self.portstr, error=str(err))
        else:
            self._mark_lost("the terminal server closed the connection")
        finally:
            self._read_buffer.put(None)  # wake a reader waiting on the queue

    def _mark_lost(self, reason: str) -> None:
        with self._lost_lock:
            if self.lost is None and self.is_open:
                self.lost = reason
