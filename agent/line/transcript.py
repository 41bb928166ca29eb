"""A timestamped record of every byte in and out of a session, saved redacted.

It is the evidence attached to tickets and the material for replay. Redaction happens on
the whole inbound stream at save time, so a secret echoed back in pieces across several
reads is still masked; outbound secrets are never recorded in clear in the first place.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.line.secrets import MASK, REDACTOR


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

    def received(self, data: bytes) -> None:
        self._chunks.append(_Chunk(time.monotonic() - self._t0, "in", data))

    def sent(self, data: bytes) -> None:
        self._chunks.append(_Chunk(time.monotonic() - self._t0, "out", data))

    def sent_secret(self, line_ending: bytes) -> None:
        self._chunks.append(_Chunk(time.monotonic() - self._t0, "out",
                                   MASK.encode() + line_ending))

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
