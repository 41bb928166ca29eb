"""The transport contract: a byte stream with a lifecycle and byte counters.

A transport knows nothing about vendors or prompts; the console sits on top of it.
``read`` returns ``b""`` on timeout and raises ``LineDropped`` when the line is gone, so
the console can tell "PBX is slow" from "PBX has gone".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

from agent.line.secrets import Secret


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str | None = None
    password: Secret | None = None


class Transport(ABC):
    """Base of every line: SSH, telnet, serial, RFC 2217, modem."""

    #: True when the line authenticated the user itself (SSH); the console dialect then
    #: skips its own login dialogue.
    authenticates: bool = False

    def __init__(self) -> None:
        self.bytes_in = 0
        self.bytes_out = 0
        #: The run's deadline for reaching the PBX (``time.monotonic()``), set by the
        #: runner before ``open``: a line that retries (the modem) stops redialling there.
        self.reach_by: float | None = None

    @property
    @abstractmethod
    def display_url(self) -> str:
        """The URL without any secret, fit for logs and results."""

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def _read(self, max_bytes: int, timeout: float) -> bytes: ...

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Release the line; must be safe to call twice and after a failed open."""

    def read(self, max_bytes: int, timeout: float) -> bytes:
        data = self._read(max_bytes, max(timeout, 0.0))
        self.bytes_in += len(data)
        return data

    def write(self, data: bytes) -> None:
        self._write(data)
        self.bytes_out += len(data)

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
