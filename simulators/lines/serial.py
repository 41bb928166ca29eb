"""A PBX's RS-232 maintenance port, as a pseudo-terminal a client opens with pyserial.

A console on a serial port cannot know that someone has opened the other end: it wakes
when a key is pressed. The first byte a client sends (normally a CR) starts a session —
banner and ``Login:`` — and is not part of the login; after ``EXIT`` the next byte wakes
a fresh session. (Waiting for the key also matters to clients: pyserial discards pending
input when it opens a port, so a banner printed on open would be lost.) The client
closing the port ends the session and releases the programming lock. Carrier loss
on a direct cable means the cable is cut: the pty is destroyed and the client's next read
fails (EIO), which is what a USB serial adapter being pulled looks like.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from simulators.lines.conditions import LineConditions, LineStats
from simulators.lines.pump import LineGroup, LineHandler
from simulators.lines.session import DEFAULT_USERNAME, SessionMaker, login_session_maker
from simulators.lines.wires import PtyWire
from simulators.ssh_server import ConsoleSession
from simulators.state import PbxState


class SerialConsole(LineHandler):
    """The PBX end of a serial cable: one session per client opening the port."""

    def __init__(self, make_session: SessionMaker, conditions: LineConditions) -> None:
        self._make_session = make_session
        self._conditions = conditions
        self._session: ConsoleSession | None = None

    def _start(self) -> None:
        if self.pump.call is None:
            self.pump.begin_call(self._conditions)
        self._session = self._make_session(self._from_pbx)
        self._session.start()

    def _from_pbx(self, data: bytes) -> None:
        self.pump.send_line(self.pump.noisy_to_client(data))

    def on_data(self, data: bytes) -> None:
        session = self._session
        if session is None or session.closed:
            self._start()  # the keystroke that woke the console is not part of a login
            return
        session.feed(self.pump.noisy_to_pbx(data))

    def on_hangup(self) -> None:
        self._end_session()
        self.pump.end_call()

    def on_carrier_lost(self) -> None:
        self._end_session()
        self.pump.abort()

    def on_close(self) -> None:
        self._end_session()

    def _end_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()


class PtyEndpoint:
    """A serial console on a pty; ``device`` is the path a client opens."""

    def __init__(self, make_session: SessionMaker, conditions: LineConditions) -> None:
        self.lines = LineGroup()
        wire = PtyWire()
        self.device = wire.device
        self.lines.spawn(wire, SerialConsole(make_session, conditions),
                         name=f"pty-{self.device.rsplit('/', 1)[-1]}")

    @property
    def url(self) -> str:
        return f"serial://{self.device}"

    @property
    def stats(self) -> LineStats:
        return self.lines.stats

    @property
    def alive(self) -> bool:
        """False once the line has been cut (carrier loss) or closed."""
        return self.lines.count > 0

    def close(self) -> None:
        self.lines.stop()


def start_pty_server(pbx: PbxState, *, username: str = DEFAULT_USERNAME, password: str,
                     conditions: LineConditions | None = None,
                     session_maker: SessionMaker | None = None) -> PtyEndpoint:
    """Serve ``pbx``'s console on a new pty; the caller must ``close()`` the endpoint."""
    return PtyEndpoint(session_maker or login_session_maker(pbx, username=username,
                                                            password=password),
                       conditions or LineConditions())


@contextlib.contextmanager
def serve_pty(pbx: PbxState, *, username: str = DEFAULT_USERNAME, password: str,
              conditions: LineConditions | None = None,
              session_maker: SessionMaker | None = None) -> Iterator[str]:
    """Serve ``pbx`` on a pty for the ``with`` block; yields the device path to open."""
    endpoint = start_pty_server(pbx, username=username, password=password,
                                conditions=conditions, session_maker=session_maker)
    try:
        yield endpoint.device
    finally:
        endpoint.close()
