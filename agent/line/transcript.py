"""A timestamped record of every byte in and out of a session, saved redacted.

It is the evidence attached to tickets and the material for replay. Redaction happens on
the whole inbound stream at save time, so a secret echoed back in pieces across several
reads is still masked; outbound secrets are never recorded in clear in the first place.

One masking rule (docs/reliability.md): everywhere, whole occurrences of a known secret
are masked; inside the *echo window* — what the PBX sends between our ``send_secret`` and
our next send (which only follows its next prompt) — the secret is masked loosely too,
its characters in order with up to ``ECHO_NOISE_GAP`` other bytes between them, because
a PBX that echoes a password over a noisy line echoes it with noise inside.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.line.secrets import MASK, REDACTOR

#: Stray bytes tolerated between two characters of an echoed secret.
ECHO_NOISE_GAP = 3


@dataclass(slots=True)
class _EchoWindow:
    start: int  # offset in the inbound stream
    end: int | None  # None while still open
    pattern: re.Pattern[str]


@dataclass(slots=True)
class _Chunk:
    at: float
    direction: str  # "in" (from the PBX) | "out" (to the PBX)
    data: bytes


class Transcript:
    def __init__(self) -> None:
        self.started = datetime.now(UTC)
        self._t0 = time.monotonic()
        self._chunks: list[_Chunk] = []
        self._inbound = 0
        self._outbound = 0
        self._windows: list[_EchoWindow] = []

    @property
    def bytes_received(self) -> int:
        """How much the far end has said so far (a dead PBX says nothing at all)."""
        return self._inbound

    def received(self, data: bytes) -> None:
        self._chunks.append(_Chunk(time.monotonic() - self._t0, "in", data))
        self._inbound += len(data)

    @property
    def bytes_sent(self) -> int:
        return self._outbound

    def sent(self, data: bytes) -> None:
        self._outbound += len(data)
        self._close_echo_window()
        self._chunks.append(_Chunk(time.monotonic() - self._t0, "out", data))

    def sent_secret(self, line_ending: bytes, value: str = "") -> None:
        """Record a mask for what was sent, and open the echo window for ``value``."""
        self._close_echo_window()
        self._chunks.append(_Chunk(time.monotonic() - self._t0, "out",
                                   MASK.encode() + line_ending))
        if value:
            gap = f".{{0,{ECHO_NOISE_GAP}}}"
            loose = gap.join(re.escape(ch) for ch in value)
            self._windows.append(_EchoWindow(self._inbound, None, re.compile(loose, re.S)))

    def _close_echo_window(self) -> None:
        if self._windows and self._windows[-1].end is None:
            self._windows[-1].end = self._inbound

    def redacted_chunks(self) -> list[_Chunk]:
        """Chunks with every known secret masked, even when split across chunks."""
        masked = {"in": self._masked_stream("in"), "out": self._masked_stream("out")}
        offsets = {"in": 0, "out": 0}
        out: list[_Chunk] = []
        for chunk in self._chunks:
            start = offsets[chunk.direction]
            offsets[chunk.direction] = start + len(chunk.data)
            out.append(_Chunk(chunk.at, chunk.direction,
                              masked[chunk.direction][start:start + len(chunk.data)]))
        return out

    def _masked_stream(self, direction: str) -> bytes:
        stream = bytearray(b"".join(c.data for c in self._chunks if c.direction == direction))
        text = stream.decode("latin-1")
        for secret in REDACTOR.values():
            index = text.find(secret)
            while index >= 0:
                stream[index:index + len(secret)] = b"*" * len(secret)
                index = text.find(secret, index + len(secret))
        if direction == "in":
            for window in self._windows:
                end = len(text) if window.end is None else window.end
                for match in window.pattern.finditer(text, window.start, end):
                    stream[match.start():match.end()] = b"*" * (match.end() - match.start())
        return bytes(stream)

    def text(self) -> str:
        """The redacted session as a terminal would show it (inbound bytes only)."""
        inbound = b"".join(c.data for c in self.redacted_chunks() if c.direction == "in")
        return inbound.decode("ascii", errors="replace").replace("\r\n", "\n")

    def save(self, path: Path) -> Path:
        """JSON lines: a header, then one line per chunk (seconds since start, direction,
        data with non-printables escaped). Written atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps({"transcript": 1, "started": self.started.isoformat()}) + "\n")
                for chunk in self.redacted_chunks():
                    record = {"t": round(chunk.at, 6), "dir": chunk.direction,
                              "data": chunk.data.decode("latin-1")}
                    out.write(json.dumps(record) + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
