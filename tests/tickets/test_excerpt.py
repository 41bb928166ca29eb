"""Transcript excerpts: what the PBX said while the failed checks ran, redacted, bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.line.secrets import Secret
from agent.result import StepResult, StepStatus
from agent.tickets.excerpt import (
    Chunk,
    excerpt,
    failed_windows,
    parse_transcript,
    transcript_excerpt,
)

from .builders import step

T0 = datetime(2026, 4, 24, 16, 25, tzinfo=UTC)


def saved(chunks: list[tuple[float, str, str]]) -> list[str]:
    """A transcript as agent/line/transcript.py saves it: header line, then one line per chunk."""
    lines = [json.dumps({"transcript": 1, "started": T0.isoformat()})]
    lines += [json.dumps({"t": t, "dir": d, "data": data}) for t, d, data in chunks]
    return lines


SESSION = saved([
    (0.1, "in", "Password: "), (0.2, "out", "********\r"), (0.3, "in", "\r\nTDE200>"),
    (1.0, "out", "CO\r"), (1.1, "in", "CO\r\nCO CAB SLT PRT KIND STATUS\r\n"),
    (1.2, "in", " 1  1  03  01  LCOT FLT\r\n 2  1  03  02  LCOT FLT\r\nTDE200>"),
    (2.0, "out", "EXT\r"), (2.1, "in", "EXT\r\n201 1 01 01 DPT Reception IDLE\r\nTDE200>"),
])


def test_excerpt_is_what_the_pbx_said_during_the_failed_step() -> None:
    failed = step("Every CO line in service", started_at=T0 + timedelta(seconds=1),
                  duration_s=0.3)
    ok = step("Internal calls possible", StepStatus.OK, started_at=T0 + timedelta(seconds=2),
              duration_s=0.2)
    chunks = parse_transcript(SESSION)
    assert len(chunks) == 8 and chunks[0].at == T0 + timedelta(seconds=0.1)
    text = excerpt(chunks, failed_windows([failed, ok]))
    assert text == ("CO\nCO CAB SLT PRT KIND STATUS\n 1  1  03  01  LCOT FLT\n"
                    " 2  1  03  02  LCOT FLT\nTDE200>")


def test_without_step_times_the_tail_is_shown_bounded() -> None:
    untimed: list[StepResult] = [step("x")]
    text = excerpt(parse_transcript(SESSION), failed_windows(untimed), max_lines=2)
    assert text == "201 1 01 01 DPT Reception IDLE\nTDE200>"


def test_known_secrets_are_scrubbed_and_control_bytes_dropped() -> None:
    Secret("Pbx-Secret-991")
    chunks = [Chunk(T0, True, "login Pbx-Secret-991\x07\x1b[2J ok\r\n")]
    assert excerpt(chunks, []) == "login ******** ok"


def test_excerpt_from_a_file_and_from_nothing(tmp_path: Path) -> None:
    path = tmp_path / "transcript.jsonl"
    path.write_text("\n".join([*SESSION, "not json", "[1, 2]"]) + "\n")
    failed = step("x", started_at=T0 + timedelta(seconds=2), duration_s=0.1)
    assert transcript_excerpt(path, [failed]).startswith("EXT\n201")
    assert transcript_excerpt(None, [failed]) == ""
    assert transcript_excerpt(tmp_path / "missing.jsonl", [failed]) == ""


def test_excerpt_is_capped_in_characters() -> None:
    chunks = [Chunk(T0, True, "x" * 10_000)]
    assert len(excerpt(chunks, [], max_chars=100)) == 100
