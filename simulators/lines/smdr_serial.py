"""A PBX's SMDR output on RS-232, as a pseudo-terminal a call logger opens with pyserial.

The SMDR port of a serial setup has no login: it prints. Like the maintenance port
(``serial.py``), the PBX end cannot know the other end was opened, and pyserial discards
pending input when it opens a port, so the first byte the logger sends (a CR) starts
the printout: the buffer, then each new record as it happens, in the PBX's layout
(``pbx.smdr_format``). The logger closing the port stops it; the next byte starts it
again from the buffer, as a printer switched back on would get the buffered records.
A feeder thread waits on the state's SMDR condition (never a sleep) and hands the lines
to the line's own thread, which paces them under the line conditions.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator

from simulators.lines.conditions import LineConditions
from simulators.lines.pump import LineGroup, LineHandler
from simulators.lines.wires import PtyWire
from simulators.smdr_server import RECHECK, SmdrPager
from simulators.state import PbxState

JOIN_TIMEOUT = 5.0


class SerialSmdr(LineHandler):
    """The PBX end of an SMDR cable: one printout per logger opening the port."""

    def __init__(self, pbx: PbxState, conditions: LineConditions) -> None:
        self._pbx = pbx
        self._conditions = conditions
        self._stop: threading.Event | None = None
        self._feeder: threading.Thread | None = None

    def on_data(self, data: bytes) -> None:
        if self._stop is None:  # the byte that woke the port is not printed anywhere
            if self.pump.call is None:
                self.pump.begin_call(self._conditions)
            self._stop = threading.Event()
            self._feeder = threading.Thread(target=self._feed, args=(self._stop,),
                                            name="smdr-serial-feeder", daemon=True)
            self._feeder.start()

    def _feed(self, stop: threading.Event) -> None:
        pbx, pump, page = self._pbx, self.pump, SmdrPager(self._pbx)
        after = 0

        def leave() -> bool:
            return stop.is_set() or not pbx.responding

        while not leave():
            items = pbx.wait_smdr(after, RECHECK, stop=leave)
            if leave():
                return
            data = b"".join(page.render(item) for _, item in items)
            if items:
                after = items[-1][0]
            if data:
                pump.call_soon(functools.partial(self._send, data))

    def _send(self, data: bytes) -> None:
        """On the line's thread: queue the printout, paced and with the line's noise."""
        self.pump.send_line(self.pump.noisy_to_client(data))

    def _end(self) -> None:
        stop, feeder = self._stop, self._feeder
        self._stop = self._feeder = None
        if stop is not None:
            stop.set()
            self._pbx.notify_smdr()
        if feeder is not None:
            feeder.join(JOIN_TIMEOUT)

    def on_hangup(self) -> None:
        self._end()
        self.pump.end_call()

    def on_carrier_lost(self) -> None:
        self._end()
        self.pump.abort()

    def on_close(self) -> None:
        self._end()


class SmdrPtyEndpoint:
    """The SMDR output on a pty; ``device`` is the path a call logger opens."""

    def __init__(self, pbx: PbxState, conditions: LineConditions) -> None:
        self.lines = LineGroup()
        wire = PtyWire()
        self.device = wire.device
        self.lines.spawn(wire, SerialSmdr(pbx, conditions),
                         name=f"smdr-pty-{self.device.rsplit('/', 1)[-1]}")

    @property
    def url(self) -> str:
        return f"serial://{self.device}"

    def close(self) -> None:
        self.lines.stop()


@contextlib.contextmanager
def serve_smdr_pty(pbx: PbxState, *, conditions: LineConditions | None = None
                   ) -> Iterator[str]:
    """Print ``pbx``'s SMDR on a pty for the ``with`` block; yields the device path."""
    endpoint = SmdrPtyEndpoint(pbx, conditions or LineConditions())
    try:
        yield endpoint.device
    finally:
        endpoint.close()
