"""One thread per line: move bytes between a client and whatever sits on the line.

The pump owns the line's file descriptor and its conditions. Everything the handler (a
telnet console, a serial console, a modem) does happens on this one thread, so handlers
need no locks of their own. The loop waits on ``poll`` with a deadline computed from the
token bucket, the carrier-loss timer and the handler's own timers — never a fixed sleep.
A pipe shared by all lines of an endpoint is the stop signal: one byte written to it wakes
every pump at once (it is never read, so it stays readable).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import select
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from simulators.lines.conditions import Call, LineConditions, LineStats

log = logging.getLogger(__name__)

READ_LIMIT = 4096
SHUTDOWN_TIMEOUT = 5.0


class WireGone(Exception):
    """The client end of the line has gone away (socket reset, pty closed)."""


@dataclass(frozen=True, slots=True)
class WireInput:
    data: bytes = b""
    connected: bool = False  # a client has just arrived on the line
    hung_up: bool = False  # the client has just left the line (handled before ``connected``)


class Wire(ABC):
    """The simulator's end of one line: a non-blocking file descriptor."""

    @abstractmethod
    def fileno(self) -> int: ...

    @abstractmethod
    def receive(self, limit: int) -> WireInput:
        """Whatever is there now (never blocks)."""

    @abstractmethod
    def transmit(self, data: bytes) -> int:
        """Bytes accepted now (0 when full); raises ``WireGone`` when the client is gone."""

    @abstractmethod
    def close(self) -> None: ...


class LineHandler:
    """What sits on a line. Every method runs on the line's own thread."""

    pump: LinePump

    def on_connect(self) -> None:
        """A client has arrived on the line."""

    def on_data(self, data: bytes) -> None:
        """Bytes from the client."""

    def on_hangup(self) -> None:
        """The client has left (closed its socket or its serial port)."""

    def on_carrier_lost(self) -> None:
        """The line conditions dropped the carrier (pending line output is discarded)."""

    def next_deadline(self) -> float | None:
        """The monotonic time of the handler's next timer, if any."""
        return None

    def on_timer(self, now: float) -> None:
        """Called at (or just after) ``next_deadline``."""

    def on_close(self) -> None:
        """The line is going away: release what the handler holds."""


class LinePump:
    """Moves bytes for one line under its conditions; see the module docstring."""

    def __init__(self, wire: Wire, handler: LineHandler, *, stop_fd: int, stats: LineStats,
                 name: str, connected: bool = False,
                 on_exit: Callable[[LinePump], None] | None = None) -> None:
        self.wire = wire
        self.handler = handler
        self.stats = stats
        handler.pump = self
        self._stop_fd = stop_fd
        self._connected_at_start = connected
        self._on_exit = on_exit
        self._local = bytearray()  # unpaced, noise-free (a modem's own result codes)
        self._line = bytearray()  # paced, counted against the carrier-loss limit
        self._call: Call | None = None
        self._held = False
        self._finishing = False
        self._ended = False
        self._want_write = False
        self._drained: list[Callable[[], None]] = []
        self._soon: deque[Callable[[], None]] = deque()
        self._soon_lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the line's thread (from any thread): handlers stay lock-free."""
        with self._soon_lock:
            if self._wake_w < 0:
                return  # the line has ended
            self._soon.append(callback)
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"x")

    def _run_soon(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 512):
                pass
        while True:
            with self._soon_lock:
                if not self._soon:
                    return
                callback = self._soon.popleft()
            callback()

    # --- the handler's API -------------------------------------------------------------

    @property
    def call(self) -> Call | None:
        return self._call

    def begin_call(self, conditions: LineConditions) -> Call:
        """Start pacing, noise and the carrier-loss clock for a new connection or call."""
        self._call = Call(conditions, time.monotonic(), self.stats)
        return self._call

    def end_call(self) -> None:
        """The call is over: pending line output is discarded, the line is unpaced."""
        self._call = None
        self._line.clear()
        self._held = False
        self._run_drained()

    def send_local(self, data: bytes) -> None:
        """Send at once, unpaced and noise-free (a modem talking to its own DTE)."""
        self._local += data

    def send_line(self, data: bytes) -> None:
        """Send over the line: paced, counted towards ``drop_after_bytes``."""
        self._line += data

    def noisy_to_client(self, data: bytes) -> bytes:
        return data if self._call is None else self._call.noisy_to_client(data)

    def noisy_to_pbx(self, data: bytes) -> bytes:
        return data if self._call is None else self._call.noisy_to_pbx(data)

    def hold_line(self, held: bool) -> None:
        """Hold (or release) line output, as a modem does in online-command mode."""
        self._held = held

    @property
    def line_pending(self) -> int:
        return len(self._line)

    def when_line_drained(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on this thread) once every queued line byte has left."""
        if not self._line:
            callback()
        else:
            self._drained.append(callback)

    def drop_carrier(self) -> None:
        """Lose the carrier now (as the line conditions would), if a call is up."""
        if self._call is not None:
            self._carrier_lost()

    def finish(self) -> None:
        """End the line once all queued output has left (the PBX said BYE)."""
        self._finishing = True

    def abort(self) -> None:
        """End the line now, dropping queued output (hang-up, cable pulled)."""
        self._ended = True

    # --- the loop ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            if self._connected_at_start:
                self.handler.on_connect()
            self._loop()
        except Exception:  # one broken line must not take the endpoint down
            log.exception("line %s failed", self.thread.name)
        finally:
            with contextlib.suppress(Exception):
                self.handler.on_close()
            self.wire.close()
            with self._soon_lock:
                os.close(self._wake_w)
                self._wake_w = -1
                self._soon.clear()
            os.close(self._wake_r)
            if self._on_exit is not None:
                self._on_exit(self)

    def _loop(self) -> None:
        poller = select.poll()
        poller.register(self._stop_fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        fd = self.wire.fileno()
        poller.register(fd, 0)
        while True:
            now = time.monotonic()
            self._timers(now)
            if not self._ended:
                self._flush(now)
            if self._ended or (self._finishing and not self._local and not self._line):
                return
            read_limit = self._read_limit(now)
            mask = (select.POLLIN if read_limit else 0) | (select.POLLOUT if self._want_write
                                                            else 0)
            poller.modify(fd, mask)
            timeout = self._timeout(now, read_limit)
            events = dict(poller.poll(None if timeout is None else math.ceil(timeout * 1000)))
            if self._stop_fd in events:
                return
            if self._wake_r in events:
                self._run_soon()
            flags = events.get(fd, 0)
            if flags & select.POLLOUT:
                self._want_write = False
            if flags & (select.POLLIN | select.POLLHUP | select.POLLERR):
                self._receive(read_limit or 1)

    def _read_limit(self, now: float) -> int:
        call = self._call
        if call is None or call.in_bucket is None:
            return READ_LIMIT
        return min(READ_LIMIT, call.in_bucket.available(now))

    def _timeout(self, now: float, read_limit: int) -> float | None:
        if not self._want_write and (self._local or (self._line and not self._held and (
                self._call is None or self._call.out_bucket is None))):
            return 0.0  # output queued while flushing (a callback): send it straight away
        deadlines: list[float] = []
        call = self._call
        if call is not None:
            if call.drop_at is not None:
                deadlines.append(call.drop_at)
            if call.in_bucket is not None and not read_limit:
                deadlines.append(now + call.in_bucket.wait_time(1, now))
            if self._line and not self._held and not self._want_write and not self._local \
                    and call.out_bucket is not None:
                deadlines.append(now + call.out_bucket.wait_time(len(self._line), now))
        handler_deadline = self.handler.next_deadline()
        if handler_deadline is not None:
            deadlines.append(handler_deadline)
        return max(0.0, min(deadlines) - now) if deadlines else None

    def _receive(self, limit: int) -> None:
        got = self.wire.receive(limit)
        if got.hung_up:  # first: a reopened port is a hang-up, then a new arrival
            self._local.clear()
            self.handler.on_hangup()
        if got.connected:
            self.handler.on_connect()
        if got.data:
            self.stats.add(to_pbx=len(got.data))
            call = self._call
            if call is not None and call.in_bucket is not None:
                call.in_bucket.take(len(got.data), time.monotonic())
            self.handler.on_data(got.data)

    def _timers(self, now: float) -> None:
        call = self._call
        if call is not None and call.drop_at is not None and now >= call.drop_at:
            self._carrier_lost()
        deadline = self.handler.next_deadline()
        if deadline is not None and now >= deadline:
            self.handler.on_timer(now)

    def _flush(self, now: float) -> None:
        if self._local:
            sent = self._transmit(self._local)
            del self._local[:sent]
            if self._local:
                self._want_write = True
                return
        if not self._line or self._held:
            return
        call = self._call
        allowed = len(self._line)
        if call is not None and call.bytes_left is not None:
            allowed = min(allowed, call.bytes_left)
        if call is not None and call.out_bucket is not None:
            allowed = call.out_bucket.take(allowed, now)
        if allowed:
            sent = self._transmit(self._line[:allowed])
            if call is not None and call.out_bucket is not None:
                call.out_bucket.give_back(allowed - sent)
            if sent < allowed:
                self._want_write = True
            del self._line[:sent]
            self.stats.add(to_client=sent)
            if call is not None and call.bytes_left is not None:
                call.bytes_left -= sent
        if call is not None and call.bytes_left == 0 and self._call is call:
            self._carrier_lost()
        elif not self._line:
            self._run_drained()

    def _transmit(self, data: bytearray) -> int:
        try:
            return self.wire.transmit(bytes(data))
        except WireGone:
            self._local.clear()
            self._line.clear()
            self.handler.on_hangup()
            return 0

    def _carrier_lost(self) -> None:
        self.stats.add(losses=1)
        self._call = None
        self._line.clear()
        self._held = False
        self._drained.clear()
        self.handler.on_carrier_lost()

    def _run_drained(self) -> None:
        callbacks, self._drained = self._drained, []
        for callback in callbacks:
            callback()


class LineGroup:
    """The pumps of one endpoint, and the pipe that stops them all at once."""

    def __init__(self, stats: LineStats | None = None) -> None:
        self.stats = stats if stats is not None else LineStats()
        self.stop_r, self._stop_w = os.pipe()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pumps: set[LinePump] = set()
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    def spawn(self, wire: Wire, handler: LineHandler, *, name: str,
              connected: bool = False) -> LinePump | None:
        """Start a pump for ``wire``; None (and the wire closed) when shutting down."""
        pump = LinePump(wire, handler, stop_fd=self.stop_r, stats=self.stats, name=name,
                        connected=connected, on_exit=self._exited)
        with self._lock:  # started under the lock: stop() never sees an unstarted pump
            if self._stopping:
                wire.close()
                return None
            self._pumps.add(pump)
            pump.start()
            self._changed.notify_all()
        return pump

    def _exited(self, pump: LinePump) -> None:
        with self._lock:
            self._pumps.discard(pump)
            self._changed.notify_all()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._pumps)

    def wait_for_count(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._pumps) == count, timeout)

    def stop(self, *others: threading.Thread) -> None:
        """Wake every pump (and ``others`` waiting on ``stop_r``, like an accept loop),
        wait (bounded) for them all, then release the pipe."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            threads = [p.thread for p in self._pumps] + list(others)
        os.write(self._stop_w, b"x")
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in threads):
            log.warning("line simulator: threads still running after shutdown deadline")
            return  # leave the pipe open: a late pump must still see the stop signal
        os.close(self.stop_r)
        os.close(self._stop_w)
