"""The TCP connection under the SSH and telnet lines, opened and failed the same way.

Both lines want TCP_NODELAY: a console exchange is many small writes, each waiting for
an answer, and Nagle's algorithm would hold every one ~40 ms (paramiko never sets it).
A name that does not resolve, a refused or timed-out connect all become ``ConnectFailed``
naming the line, so the runner tries the site's next path.
"""

from __future__ import annotations

import socket

from agent.line.errors import ConnectFailed


def open_tcp_socket(host: str, port: int, *, timeout: float, shown: str) -> socket.socket:
    """A connected socket with TCP_NODELAY; ``shown`` is the line's URL for the message."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as err:
        raise ConnectFailed(f"cannot connect to {shown}: {err.strerror or err}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
