"""The plumbing every simulated TCP server shares: listen, accept, a thread per client, stop.

The SSH, SMDR and RFC 2217 servers differ in what they say to a client, not in how they
take one: a non-blocking listening socket, an accept loop that waits on the listener and
a stop pipe (never a polling timeout), one tracked thread per client so one client's
trouble cannot take the server down, and a bounded shutdown that wakes everything at once.
The stop pipe is written once and never read, so it stays readable: a client thread may
wait on ``stop_fd`` too.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 5.0


def open_listener(host: str, port: int, *, backlog: int) -> socket.socket:
    """A non-blocking listening socket (IPv6 when ``host`` is): ``accept`` only after
    ``select`` says a client is there, so the accept loop never blocks shutdown."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=backlog)
    listener.setblocking(False)
    return listener


class Listener:
    """Accepts on ``sock`` in its own thread and hands each client to ``on_accept``.

    ``on_accept(sock, peer)`` runs on the accept thread and usually ``spawn``s the
    client's thread. ``start()`` once the server is ready to take clients; ``close()``
    stops accepting, lets the server drop its clients, and joins every thread (bounded).
    """

    def __init__(self, sock: socket.socket, *, kind: str,
                 on_accept: Callable[[socket.socket, Any], None]) -> None:
        self.host, self.port = sock.getsockname()[:2]
        self._sock = sock
        self._kind = kind
        self._on_accept = on_accept
        self._stopping = threading.Event()
        self.stop_fd, self._stop_w = os.pipe()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._accept_thread = threading.Thread(target=self._accept_loop,
                                               name=f"{kind}-accept-{self.port}", daemon=True)

    @property
    def stopping(self) -> bool:
        """True once ``close`` has begun: client threads should wind down."""
        return self._stopping.is_set()

    def start(self) -> None:
        self._accept_thread.start()

    def spawn(self, target: Callable[..., None], *args: object, name: str) -> None:
        """Run ``target(*args)`` in a thread that ``close`` waits for; an exception in it is
        logged, never allowed to end the server."""
        thread = threading.Thread(target=self._run_tracked, args=(target, *args), name=name,
                                  daemon=True)
        with self._lock:  # added before it starts: close() never misses a running thread
            self._threads.add(thread)
        thread.start()

    def close(self, drop_clients: Callable[[], None] = lambda: None) -> None:
        """Stop accepting, call ``drop_clients`` (the server ends its connections), and
        wait (bounded) for every thread; idempotent."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
        os.write(self._stop_w, b"x")
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT
        if self._accept_thread.is_alive():
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        self._sock.close()
        drop_clients()
        if not self._join_all(deadline):
            log.warning("%s server: threads still running after shutdown deadline", self._kind)
            return  # leave the pipe open: a late thread must still see the stop signal
        os.close(self.stop_fd)
        os.close(self._stop_w)

    def _join_all(self, deadline: float) -> bool:
        """Join client threads, including any started while we wait; False at the deadline."""
        while True:
            with self._lock:
                threads = [t for t in self._threads if t is not threading.current_thread()]
            remaining = deadline - time.monotonic()
            if not threads or remaining <= 0:
                return not threads
            threads[0].join(remaining)

    def _run_tracked(self, target: Callable[..., None], *args: object) -> None:
        try:
            target(*args)
        except Exception:  # one client's trouble must not take the server down
            log.exception("%s server thread failed", self._kind)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._sock.fileno(), self.stop_fd], [], [])
            if self.stop_fd in ready:
                return
            try:
                sock, peer = self._sock.accept()
            except OSError:  # the client gave up between select() and accept()
                continue
            if self._stopping.is_set():
                sock.close()
                return
            self._on_accept(sock, peer)
