"""Line conditions: baud-rate pacing, injected noise and carrier loss, per connection.

A real PBX is mostly reached over slow, noisy lines; the simulator reproduces the three
things a client must survive. Pacing is a token bucket driven by the monotonic clock: the
line loop asks how long until the next chunk may leave and waits for exactly that (on
poll, never a sleep per byte). Noise is seeded so a failing test replays byte for byte.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum

#: Pacing wakes the line about every CHUNK_SECONDS; the bucket holds two chunks so a
#: late wake-up (scheduler jitter) never throws tokens away and throughput stays exact.
CHUNK_SECONDS = 0.02


class NoiseDirection(StrEnum):
    BOTH = "both"
    TO_CLIENT = "to_client"  # PBX -> client only (what a client's parser must survive)
    TO_PBX = "to_pbx"


@dataclass(frozen=True, slots=True)
class LineConditions:
    """How bad a line is. The defaults are a perfect, unpaced line.

    ``baud`` paces both directions to baud/10 bytes per second (start + 8 data + stop
    bits). ``noise_rate`` is the probability, per byte carried, that a random byte is
    inserted before it. Carrier is lost once ``drop_after_bytes`` bytes have gone to the
    client, or ``drop_after_seconds`` after the call started, whichever comes first.
    """

    baud: int | None = None
    noise_rate: float = 0.0
    noise_seed: int | None = None
    noise_direction: NoiseDirection = NoiseDirection.BOTH
    drop_after_bytes: int | None = None
    drop_after_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.baud is not None and self.baud < 10:
            raise ValueError(f"baud must be at least 10, not {self.baud}")
        if not 0.0 <= self.noise_rate < 1.0:
            raise ValueError(f"noise rate must be in [0, 1), not {self.noise_rate}")
        if self.drop_after_bytes is not None and self.drop_after_bytes < 0:
            raise ValueError("drop_after_bytes must not be negative")
        if self.drop_after_seconds is not None and self.drop_after_seconds < 0:
            raise ValueError("drop_after_seconds must not be negative")

    @property
    def bytes_per_second(self) -> float | None:
        return None if self.baud is None else self.baud / 10.0

    @property
    def perfect(self) -> bool:
        return (self.baud is None and self.noise_rate == 0.0 and self.drop_after_bytes is None
                and self.drop_after_seconds is None)


class TokenBucket:
    """Bytes may leave at ``rate`` per second; the caller waits ``wait_time`` before trying."""

    def __init__(self, rate: float, now: float, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.rate = rate
        self.chunk = max(1.0, rate * chunk_seconds)
        self.capacity = 2.0 * self.chunk
        self._tokens = self.chunk  # a fresh line sends its first chunk at once
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def available(self, now: float) -> int:
        """Whole bytes that may go now, without taking them."""
        self._refill(now)
        return int(self._tokens)

    def take(self, wanted: int, now: float) -> int:
        """How many of ``wanted`` bytes may go now (they are taken from the bucket)."""
        self._refill(now)
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted

    def give_back(self, count: int) -> None:
        """Bytes granted but not written (the socket was full) are not lost time."""
        self._tokens = min(self.capacity, self._tokens + count)

    def wait_time(self, wanted: int, now: float) -> float:
        """Seconds until a worthwhile chunk (``wanted`` bytes, at most one chunk) may go."""
        self._refill(now)
        need = min(float(wanted), self.chunk)
        return max(0.0, (need - self._tokens) / self.rate)


class Noise:
    """Inserts random bytes at ``rate`` per byte; gaps are geometric so cost is per hit."""

    def __init__(self, rate: float, rng: random.Random) -> None:
        self.rate = rate
        self._rng = rng
        self._gap = self._next_gap()

    def _next_gap(self) -> int:
        if self.rate <= 0.0:
            return -1
        uniform = 1.0 - self._rng.random()  # (0, 1]
        return int(math.log(uniform) / math.log1p(-self.rate))

    def apply(self, data: bytes) -> tuple[bytes, int]:
        """``data`` with noise inserted, and how many noise bytes were inserted."""
        if self._gap < 0 or not data:
            return data, 0
        out = bytearray()
        hits = 0
        position = 0
        while self._gap < len(data) - position:
            cut = position + self._gap
            out += data[position:cut]
            out.append(self._rng.randrange(256))
            hits += 1
            position = cut
            self._gap = self._next_gap()
        self._gap -= len(data) - position
        out += data[position:]
        return bytes(out), hits


@dataclass(slots=True)
class LineStats:
    """What a line carried, for tests and for ``pbxdiag simulate`` to report (thread-safe)."""

    to_client: int = 0
    to_pbx: int = 0
    noise_bytes: int = 0
    carrier_losses: int = 0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, to_client: int = 0, to_pbx: int = 0, noise: int = 0, losses: int = 0,
            calls: int = 0) -> None:
        with self._lock:
            self.to_client += to_client
            self.to_pbx += to_pbx
            self.noise_bytes += noise
            self.carrier_losses += losses
            self.calls += calls


class Call:
    """The conditions of one connection (or one modem call), running from ``now``."""

    def __init__(self, conditions: LineConditions, now: float, stats: LineStats) -> None:
        self.conditions = conditions
        self.stats = stats
        rate = conditions.bytes_per_second
        self.out_bucket = TokenBucket(rate, now) if rate is not None else None
        self.in_bucket = TokenBucket(rate, now) if rate is not None else None
        rng = random.Random(conditions.noise_seed)  # noqa: S311 (line noise, not crypto)
        direction = conditions.noise_direction
        self._noise_out = Noise(conditions.noise_rate if direction != NoiseDirection.TO_PBX
                                else 0.0, rng)
        self._noise_in = Noise(conditions.noise_rate if direction != NoiseDirection.TO_CLIENT
                               else 0.0, rng)
        self.drop_at = (None if conditions.drop_after_seconds is None
                        else now + conditions.drop_after_seconds)
        self.bytes_left = conditions.drop_after_bytes  # None: no byte limit
        stats.add(calls=1)

    def noisy_to_client(self, data: bytes) -> bytes:
        noisy, hits = self._noise_out.apply(data)
        if hits:
            self.stats.add(noise=hits)
        return noisy

    def noisy_to_pbx(self, data: bytes) -> bytes:
        noisy, hits = self._noise_in.apply(data)
        if hits:
            self.stats.add(noise=hits)
        return noisy
