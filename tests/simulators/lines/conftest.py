"""Clients that talk raw bytes to the line simulators, with deadlines (never sleeps)."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable

import pytest
import serial

from simulators import PbxState, load_scenario

PASSWORD = "line-Pw-4411"
PROMPT = b"KX-TDE200> "
DEADLINE = 10.0


@pytest.fixture
def pbx() -> PbxState:
    return load_scenario("panasonic-healthy")


class Reader:
    """Accumulates what a line sends; ``until`` waits for a pattern with a deadline."""

    def __init__(self, read: Callable[[float], bytes]) -> None:
        self._read = read
        self.buffer = b""

    def until(self, pattern: bytes, timeout: float = DEADLINE) -> bytes:
        """Everything up to and including ``pattern`` (consumed); fails at the deadline."""
        deadline = time.monotonic() + timeout
        while pattern not in self.buffer:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {pattern!r} within {timeout}s; got {self.buffer!r}"
            self.buffer += self._read(remaining)
        cut = self.buffer.index(pattern) + len(pattern)
        found, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return found

    def until_noisy(self, expected: bytes, timeout: float = DEADLINE) -> bytes:
        """Everything up to ``expected`` arriving with noise *inserted* into it: done once
        ``expected`` is a subsequence of what came (noise never follows the last byte)."""
        deadline = time.monotonic() + timeout
        while not is_subsequence(expected, self.buffer):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no noisy {expected!r} within {timeout}s: {self.buffer!r}"
            self.buffer += self._read(remaining)
        data, self.buffer = self.buffer, b""
        return data

    def quiet_for(self, seconds: float) -> bytes:
        """What arrives within ``seconds`` (used to show that nothing does)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.buffer += self._read(remaining)
        data, self.buffer = self.buffer, b""
        return data


def is_subsequence(needle: bytes, haystack: bytes) -> bool:
    rest = iter(haystack)
    return all(byte in rest for byte in needle)


def socket_reader(sock: socket.socket) -> Reader:
    def read(timeout: float) -> bytes:
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return b""
        data = sock.recv(65536)
        if not data:
            raise EOFError("socket closed")
        return data

    return Reader(read)


def port_reader(port: serial.Serial) -> Reader:
    def read(timeout: float) -> bytes:
        ready, _, _ = select.select([port.fileno()], [], [], timeout)
        return port.read(65536) if ready else b""

    return Reader(read)


def open_port(device: str) -> serial.Serial:
    return serial.Serial(device, timeout=0)
