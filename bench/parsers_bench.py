"""Parsing throughput in lines per second (target ≥ 100,000 lines/s): the Panasonic error
log, Panasonic SMDR (pattern A, the real capture repeated) and Toshiba alarm history."""

from __future__ import annotations

import cProfile
import io
import pstats
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from drivers.panasonic.parsers import parse_error_log
from drivers.panasonic.smdr import parse_smdr
from drivers.toshiba.parsers import parse_alarm_history

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "panasonic"
SMDR_CAPTURE = ROOT / "tests" / "fixtures" / "reference" / "panasonic-smdr-capture.txt"
TOSHIBA_HEADER = "DATE     TIME     CODE CATEGORY SEV   EQUIP  DESCRIPTION"
TOSHIBA_ROWS = [
    "11/27/26 15:48:13 2230 PCB      MAJOR 010300 PCB NOT RESPONDING",
    "11/27/26 15:40:02 3330 TRUNK    MINOR 010402 CO LINE NO LOOP CURRENT",
    "11/26/26 02:11:40 4100 STATION  MINOR 020105 STATION NOT RESPONDING",
    "11/25/26 23:59:59 1010 SYSTEM   MAJOR 000000 POWER FAILURE RECOVERED",
]
LINES = 50_000
REPEATS = 7
TARGET = 100_000


def _repeat(lines: list[str], count: int) -> str:
    return "\n".join((lines * (count // len(lines) + 1))[:count])


def _case(name: str, text: str, parse: Callable[[str], int]) -> dict[str, object]:
    from bench.__main__ import summarise

    count = len(text.splitlines())
    parse(text)  # warm-up
    rates: list[float] = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        parse(text)
        rates.append(count / (time.perf_counter() - start))
    median = statistics.median(rates)
    row: dict[str, object] = {"case": f"{name}, {count:,} lines", **summarise(rates, "lines/s"),
                              "target": f"≥ {TARGET:,} lines/s",
                              "met": "yes" if median >= TARGET else "NO"}
    if median < TARGET:
        row["note"] = _profile(parse, text)
    return row


def _profile(parse: Callable[[str], int], text: str) -> str:
    """cProfile's top entries (by own time) for one parse: where a missed target goes."""
    profiler = cProfile.Profile()
    profiler.runcall(parse, text)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    table = out.getvalue()
    body = table[table.index("ncalls"):].rstrip() if "ncalls" in table else table.strip()
    body = re.sub(r"\S*/python3\.\d+/", "", body.replace(f"{ROOT}/", ""))
    return "Target missed; cProfile, top entries by own time:\n\n```\n" + body + "\n```"


def _error_log(text: str) -> int:
    entries, bad = parse_error_log(text)
    assert not bad
    return len(entries)


def _smdr(text: str) -> int:
    records, alarms, bad = parse_smdr(text)
    assert not bad and records and alarms
    return len(records) + len(alarms)


def _toshiba(text: str) -> int:
    alarms, bad = parse_alarm_history(text)
    assert not bad and len(alarms) == len(text.splitlines()) - 1
    return len(alarms)


def run() -> list[dict[str, object]]:
    errors = (FIXTURE / "dead-trunk-card.err.txt").read_text().splitlines()
    error_log = "\n".join(errors * (LINES // len(errors)))
    smdr = _repeat(SMDR_CAPTURE.read_text().splitlines(), LINES)
    toshiba = TOSHIBA_HEADER + "\n" + _repeat(TOSHIBA_ROWS, LINES)
    return [_case("Panasonic error log", error_log, _error_log),
            _case("Panasonic SMDR pattern A (reference capture repeated)", smdr, _smdr),
            _case("Toshiba alarm history", toshiba, _toshiba)]
