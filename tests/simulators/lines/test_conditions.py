"""Line conditions as pure functions of a clock and a seed."""

from __future__ import annotations

import random

import pytest

from simulators.lines.conditions import (
    Call,
    LineConditions,
    LineStats,
    Noise,
    NoiseDirection,
    TokenBucket,
)


def test_token_bucket_releases_bytes_at_the_rate_over_any_wake_pattern() -> None:
    bucket = TokenBucket(960.0, now=0.0)
    sent = 0
    now = 0.0
    rng = random.Random(3)
    while now < 10.0:
        sent += bucket.take(10_000, now)
        now += bucket.wait_time(10_000, now) + rng.uniform(0.0, 0.004)  # late wake-ups
    assert sent == pytest.approx(960 * 10, rel=0.01)


def test_token_bucket_waits_only_for_a_worthwhile_chunk() -> None:
    bucket = TokenBucket(120.0, now=0.0)
    assert bucket.take(100, 0.0) == 2  # a fresh line sends its first chunk at once
    assert bucket.wait_time(100, 0.0) == pytest.approx(2 / 120, rel=0.01)  # a 20 ms chunk
    assert bucket.available(0.5) == 4  # capped at two chunks: idle time is not banked


def test_give_back_returns_unsent_bytes() -> None:
    bucket = TokenBucket(1000.0, now=0.0)
    granted = bucket.take(20, 0.0)
    bucket.give_back(granted)
    assert bucket.available(0.0) == granted


def test_noise_is_seeded_and_close_to_its_rate() -> None:
    data = bytes(200_000)
    first, hits = Noise(0.01, random.Random(7)).apply(data)
    again, _ = Noise(0.01, random.Random(7)).apply(data)
    assert first == again
    assert len(first) == len(data) + hits
    assert hits == pytest.approx(2000, rel=0.1)


def test_noise_does_not_depend_on_how_the_stream_is_split() -> None:
    data = bytes(range(256)) * 100
    whole, _ = Noise(0.02, random.Random(1)).apply(data)
    noise = Noise(0.02, random.Random(1))
    pieces = b"".join(noise.apply(data[i:i + 37])[0] for i in range(0, len(data), 37))
    assert pieces == whole


def test_no_noise_at_rate_zero() -> None:
    assert Noise(0.0, random.Random(1)).apply(b"abc") == (b"abc", 0)


def test_call_noise_direction_and_stats() -> None:
    stats = LineStats()
    call = Call(LineConditions(noise_rate=0.5, noise_seed=2,
                               noise_direction=NoiseDirection.TO_CLIENT), 0.0, stats)
    assert call.noisy_to_pbx(b"x" * 100) == b"x" * 100
    assert len(call.noisy_to_client(b"x" * 100)) > 100
    assert stats.noise_bytes > 0 and stats.calls == 1


def test_call_carrier_timers() -> None:
    call = Call(LineConditions(drop_after_bytes=10, drop_after_seconds=2.5), 100.0,
                LineStats())
    assert (call.bytes_left, call.drop_at) == (10, 102.5)
    assert call.out_bucket is None and call.in_bucket is None


@pytest.mark.parametrize("kwargs", [{"baud": 5}, {"noise_rate": 1.0}, {"noise_rate": -0.1},
                                    {"drop_after_bytes": -1}, {"drop_after_seconds": -1.0}])
def test_bad_conditions_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LineConditions(**kwargs)  # type: ignore[arg-type]


def test_perfect_line() -> None:
    assert LineConditions().perfect
    assert not LineConditions(baud=1200).perfect
    assert LineConditions(baud=9600).bytes_per_second == 960.0
