"""Error-log parsing throughput in lines per second (target ≥ 100,000 lines/s)."""

from __future__ import annotations

import time
from pathlib import Path

from drivers.panasonic.parsers import parse_error_log

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "panasonic"
REPEATS = 7


def run() -> list[dict[str, object]]:
    from bench.__main__ import summarise

    lines = (FIXTURE / "dead-trunk-card.err.txt").read_text().splitlines()
    text = "\n".join(lines * (50_000 // len(lines)))
    count = len(text.splitlines())
    parse_error_log(text)  # warm-up
    rates: list[float] = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        entries, bad = parse_error_log(text)
        elapsed = time.perf_counter() - start
        assert len(entries) == count and not bad
        rates.append(count / elapsed)
    row: dict[str, object] = {"case": f"Panasonic error log, {count:,} lines",
                              **summarise(rates, "lines/s")}
    median = sorted(rates)[len(rates) // 2]
    row.update(target="≥ 100,000 lines/s", met="yes" if median >= 100_000 else "NO")
    return [row]
