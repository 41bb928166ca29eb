"""The simulator's end of a line: a TCP socket, or the master side of a pseudo-terminal.

A pseudo-terminal stands in for an RS-232 port: the client opens the slave device with
pyserial exactly as it would open ``/dev/ttyUSB0``. Two things a real UART would tell the
far end are invisible on a pty — the client opening the port, and the client closing it
(DTR). They are recovered honestly from the kernel (Linux):

- the master is in packet mode (``TIOCPKT``) and the slave has ``EXTPROC`` set, so the
  kernel reports to the master every change of the slave's settings
  (``TIOCPKT_IOCTL``) and every flush of its input (``TIOCPKT_FLUSHREAD``). Opening a
  port, pyserial always applies its settings and then flushes input: a settings change
  followed by a flush, with no data between, is "a client has (re)arrived" — even when
  a client closes and reopens the port faster than the simulator can see the hang-up
  in between. (A client that changes settings and then flushes mid-session is taken
  for a reopen; one that does neither is noticed on its first byte.) ``EXTPROC`` only
  tells the line discipline that line editing happens elsewhere, which in raw mode
  changes nothing;
- while no client is there the simulator holds the slave open itself (the *keeper*), so
  the master does not report a hang-up; once a client has arrived the keeper is closed,
  and when the client closes the port the master reports ``POLLHUP``/``EIO`` — our "DTR
  dropped" signal. The keeper is then reopened and anything left unread is drained, so
  the next client starts clean.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import struct
import termios
import tty

from simulators.lines.pump import Wire, WireGone, WireInput

EXTPROC = getattr(termios, "EXTPROC", 0o200000)  # Linux <asm-generic/termbits.h>
LFLAG = 3  # index of c_lflag in a termios attribute list
TIOCPKT_IOCTL = 64  # Linux; the termios module does not export it


class SocketWire(Wire):
    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self, limit: int) -> WireInput:
        try:
            data = self.sock.recv(limit)
        except BlockingIOError:
            return WireInput()
        except OSError:
            return WireInput(hung_up=True)
        return WireInput(data=data) if data else WireInput(hung_up=True)

    def transmit(self, data: bytes) -> int:
        try:
            return self.sock.send(data)
        except BlockingIOError:
            return 0
        except OSError as err:
            raise WireGone(str(err)) from None

    def close(self) -> None:
        self.sock.close()


class PtyWire(Wire):
    """A pseudo-terminal whose slave (``device``) a client opens as a serial port."""

    def __init__(self) -> None:
        master, slave = os.openpty()
        try:
            tty.setraw(slave)  # no echo, no line discipline before the client configures it
            attributes = termios.tcgetattr(slave)
            attributes[LFLAG] |= EXTPROC
            termios.tcsetattr(slave, termios.TCSANOW, attributes)
            fcntl.ioctl(master, termios.TIOCPKT, struct.pack("i", 1))
            os.set_blocking(master, False)
            os.set_blocking(slave, False)
            self.device = os.ttyname(slave)
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        self._master = master
        self._keeper: int | None = slave
        self.client_present = False
        self._settings_changed = False  # a TIOCPKT_IOCTL with no data since

    def fileno(self) -> int:
        return self._master

    def receive(self, limit: int) -> WireInput:
        try:
            packet = os.read(self._master, limit + 1)
        except BlockingIOError:
            return WireInput()
        except OSError as err:
            if err.errno != errno.EIO:
                raise
            packet = b""
        if not packet:
            return self._client_left()
        if packet[0] == termios.TIOCPKT_DATA:
            self._settings_changed = False
            return WireInput(data=packet[1:], connected=self._client_arrived())
        return self._status(packet[0])

    def _status(self, status: int) -> WireInput:
        """A packet-mode status byte: settings changed, input flushed, or both."""
        reopened = False
        if status & TIOCPKT_IOCTL:
            self._settings_changed = True
        if status & termios.TIOCPKT_FLUSHREAD:
            reopened, self._settings_changed = self._settings_changed, False
        if reopened and self.client_present:  # closed and opened again between two polls
            return WireInput(hung_up=True, connected=True)
        if reopened or status & termios.TIOCPKT_FLUSHREAD:
            return WireInput(connected=self._client_arrived())
        return WireInput()

    def _client_arrived(self) -> bool:
        if self.client_present:
            return False
        self.client_present = True
        self._settings_changed = False
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            os.close(keeper)
        return True

    def _client_left(self) -> WireInput:
        if self._keeper is None:
            self._keeper = os.open(self.device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self._drain()
        was_present, self.client_present = self.client_present, False
        return WireInput(hung_up=was_present)

    def _drain(self) -> None:
        """Read away output nobody collected, so the next client does not see it."""
        assert self._keeper is not None
        with contextlib.suppress(BlockingIOError):
            while os.read(self._keeper, 4096):
                pass

    def transmit(self, data: bytes) -> int:
        try:
            return os.write(self._master, data)
        except BlockingIOError:
            return 0
        except OSError as err:
            raise WireGone(str(err)) from None

    def close(self) -> None:
        """Destroy the pty: a client still holding the slave gets EIO (the cable is cut)."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            os.close(keeper)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
