"""An RFC 2217 terminal server in front of a serial device (our simulated PBX's pty).

pyserial's ``PortManager`` does the protocol (telnet options, COM-PORT-OPTION commands);
this is only the plumbing around it: one thread per client, waiting on ``poll`` for the
socket, the serial port and the endpoint's stop pipe. A pty has no modem-control lines,
so the port object used here accepts DTR/RTS changes without doing anything and reports
CTS/DSR/RI/CD as off — exactly what a terminal server with a 3-wire cable would do.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import termios
from collections.abc import Iterator
from typing import cast

import serial
from serial import rfc2217

from simulators.listener import Listener, open_listener

log = logging.getLogger(__name__)



class ThreeWirePort(serial.Serial):
    """A serial port with no modem-control lines (a pty, or a 3-wire cable).

    A Linux pty also refuses 7 data bits and parity (``EINVAL``): such a request is
    logged and the port stays as it was, so one odd client cannot stop the server.
    """

    def _reconfigure_port(self, force_update: bool = False) -> None:
        try:
            super()._reconfigure_port(force_update)  # type: ignore[misc]
        except termios.error as err:
            log.info("rfc2217: %s cannot take %s%s%s: %s", self.port, self.bytesize,
                     self.parity, self.stopbits, err)

    def _update_dtr_state(self) -> None:
        with contextlib.suppress(OSError):
            super()._update_dtr_state()  # type: ignore[misc]

    def _update_rts_state(self) -> None:
        with contextlib.suppress(OSError):
            super()._update_rts_state()  # type: ignore[misc]

    @property
    def cts(self) -> bool:
        return False

    @property
    def dsr(self) -> bool:
        return False

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return False


class _SocketWriter:
    """What ``PortManager`` writes its telnet replies to."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def write(self, data: bytes) -> None:
        self._sock.sendall(data)


class Rfc2217Endpoint:
    """Listens on TCP; each client gets the serial ``device`` opened for it."""

    def __init__(self, device: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.device = device
        sock = open_listener(host, port, backlog=16)
        try:
            self._listener = Listener(sock, kind="rfc2217", on_accept=self._accepted)
        except BaseException:
            sock.close()
            raise
        self.host, self.port = self._listener.host, self._listener.port
        self._listener.start()

    @property
    def url(self) -> str:
        return f"rfc2217://{self.host}:{self.port}"

    def _accepted(self, sock: socket.socket, _peer: tuple[str, int]) -> None:
        self._listener.spawn(self._serve, sock, name=f"rfc2217-{self.port}")

    def _serve(self, sock: socket.socket) -> None:
        port = ThreeWirePort()
        port.port = self.device
        port.timeout = 0
        try:
            port.open()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # (the stubs type both arguments as rfc2217.Serial; any port and any writer do)
            manager = rfc2217.PortManager(cast(rfc2217.Serial, port),
                                          cast(rfc2217.Serial, _SocketWriter(sock)))
            self._pump(sock, port, manager)
        except (OSError, serial.SerialException) as err:
            log.debug("rfc2217 client ended: %s", err)
        finally:
            port.close()
            sock.close()

    def _pump(self, sock: socket.socket, port: ThreeWirePort,
              manager: rfc2217.PortManager) -> None:
        fd = port.fileno()
        poller = select.poll()
        for watched in (sock.fileno(), fd, self._listener.stop_fd):
            poller.register(watched, select.POLLIN)
        while True:
            events = dict(poller.poll())
            if self._listener.stop_fd in events:
                return
            if sock.fileno() in events:
                data = sock.recv(4096)
                if not data:
                    return
                port.write(b"".join(manager.filter(data)))
            if fd in events:
                if events[fd] & (select.POLLHUP | select.POLLERR) and not \
                        events[fd] & select.POLLIN:
                    return  # the device is gone (the pty was destroyed)
                data = port.read(4096)
                if data:
                    sock.sendall(b"".join(manager.escape(data)))

    def close(self) -> None:
        """Stop accepting and wait (bounded) for every client: the stop pipe ends them."""
        self._listener.close()


@contextlib.contextmanager
def serve_rfc2217(device: str, *, host: str = "127.0.0.1",
                  port: int = 0) -> Iterator[Rfc2217Endpoint]:
    """An RFC 2217 server for ``device`` for the duration of the ``with`` block."""
    endpoint = Rfc2217Endpoint(device, host=host, port=port)
    try:
        yield endpoint
    finally:
        endpoint.close()
