"""A short, redacted excerpt of a run's transcript for the ticket and its e-mails.

The helpdesk wants to see what the PBX said when the check failed, not the whole
session. A transcript chunk carries its time since the session started and a failed step
its start and duration, so the excerpt is what the PBX sent *while the failed steps ran*
(the tail of the session when steps carry no times). The transcript on disk is already
redacted; secrets this process knows are scrubbed again, in case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from agent.line.secrets import REDACTOR
from agent.result import StepResult, StepStatus

MAX_LINES: Final = 30
MAX_CHARS: Final = 3000
#: Bytes of a reply may be read a little after the step's clock stopped.
_SLACK: Final = timedelta(seconds=0.5)
_CONTROL: Final = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Chunk:
    at: datetime
    inbound: bool
    text: str


Window = tuple[datetime, datetime]


def transcript_excerpt(path: str | Path | None, steps: Sequence[StepResult]) -> str:
    """The excerpt for a run's transcript file; empty when there is none to read."""
    if not path:
        return ""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return excerpt(parse_transcript(lines), failed_windows(steps))


def parse_transcript(lines: Iterable[str]) -> list[Chunk]:
    """Chunks of a saved transcript (agent/line/transcript.py format); odd lines are skipped."""
    started: datetime | None = None
    chunks: list[Chunk] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if "transcript" in record:
            started = _datetime(record.get("started"))
        elif started is not None and isinstance(record.get("t"), (int, float)):
            chunks.append(Chunk(at=started + timedelta(seconds=float(record["t"])),
                                inbound=record.get("dir") == "in",
                                text=str(record.get("data", ""))))
    return chunks


def failed_windows(steps: Sequence[StepResult]) -> list[Window]:
    """When each failed step ran (steps without a start time are left out)."""
    bad = (StepStatus.FAILED, StepStatus.ERROR)
    return [(s.started_at, s.started_at + timedelta(seconds=s.duration_s))
            for s in steps if s.status in bad and s.started_at is not None]


def excerpt(chunks: Sequence[Chunk], windows: Sequence[Window], *, max_lines: int = MAX_LINES,
            max_chars: int = MAX_CHARS) -> str:
    """What the PBX sent during the windows (else at the end), redacted and bounded."""
    inbound = [c for c in chunks if c.inbound]
    chosen = [c for c in inbound if any(_inside(c.at, w) for w in windows)] or inbound
    text = "".join(c.text for c in chosen).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", REDACTOR.scrub(text))
    lines = [line.rstrip() for line in text.split("\n") if line.strip()]
    kept = "\n".join(lines[-max_lines:])
    return kept[-max_chars:]


def _inside(moment: datetime, window: Window) -> bool:
    try:
        return window[0] - _SLACK <= moment <= window[1] + _SLACK
    except TypeError:  # one naive, one aware: no basis to compare
        return False


def _datetime(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
