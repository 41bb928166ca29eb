"""``make bench``: benchmarks as ratios against baselines measured in the same run.

Absolute times on shared machines are noise; a ratio of two things measured side by side
is not. Results go to ``bench/results.json`` and a table in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from agent import logsetup
from bench import (
    board_bench,
    fleet,
    fleet_celery,
    line_efficiency,
    parsers_bench,
    register_backends,
    register_bench,
    smdr_bench,
    smdr_monitor_bench,
    ssh_roundtrips,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"

Benchmark = Callable[[], list[dict[str, object]]]
BENCHMARKS: list[tuple[str, Benchmark]] = [
    ("SSH command round trips", ssh_roundtrips.run),
    ("Line efficiency (modem)", line_efficiency.run),
    ("Ticket register", register_bench.run),
    ("Register backends (PostgreSQL vs SQLite)", register_backends.run),
    ("Parsers", parsers_bench.run),
    ("SMDR parse cost (ratio to split)", smdr_bench.run),
    ("SMDR monitor ingest", smdr_monitor_bench.run),
    ("Fleet", fleet.run),
    ("Fleet on Celery (ratio to the local executor)", fleet_celery.run),
    ("Board (ratio to the register query)", board_bench.run),
]


def main() -> int:
    logsetup.configure()
    rows: list[dict[str, object]] = []
    for title, bench in BENCHMARKS:
        print(f"running: {title}", file=sys.stderr)
        rows += [{"benchmark": title, **row} for row in bench()]
    meta = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(), "machine": platform.machine(),
            "command": "make bench"}
    RESULTS.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    DOC.write_text(render(meta, rows))
    print(render(meta, rows))
    return 0


def render(meta: dict[str, str], rows: list[dict[str, object]]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{meta['command']}` on {meta['when']} (Python {meta['python']}, "
        f"{meta['machine']}). Each row: median of the repetitions after a warm-up, the spread "
        "(min–max), and the ratio against the baseline measured in the same run.",
        "",
        "| benchmark | case | median | spread | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['benchmark']} | {row['case']} | {row['median']} | {row['spread']} | "
            f"{row.get('ratio', '')} | {row.get('target', '')} | {row.get('met', '')} |")
    notes = [(row["benchmark"], row["case"], row["note"]) for row in rows if row.get("note")]
    if notes:
        lines += ["", "## Notes", ""]
        for benchmark, case, note in notes:
            lines += [f"**{benchmark} — {case}**", "", str(note), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def summarise(samples: list[float], unit: str, scale: float = 1.0) -> dict[str, str]:
    median = statistics.median(samples) * scale
    return {"median": f"{median:.3g} {unit}",
            "spread": f"{min(samples) * scale:.3g}–{max(samples) * scale:.3g} {unit}"}


if __name__ == "__main__":
    raise SystemExit(main())
