"""The replay's rules on a hand-written transcript: the k-th occurrence of a command gets
the k-th recorded reply (then the last again), the login accepts any password, a masked
value in a recorded line matches any value, and an unknown command gets the dialect's
error reply and a log line naming it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from simulators.replay import ReplaySession, load_recording

PROMPT = "KX-TDE200> "
CHUNKS = [
    ("in", "Login: "), ("out", "INSTALLER\r"), ("in", "INSTALLER\r\nPassword: "),
    ("out", "********\r"), ("in", f"\r\n{PROMPT}"),
    ("out", "ALM\r"), ("in", f"ALM\r\nfirst\r\n{PROMPT}"),
    ("out", "ALM\r"), ("in", f"ALM\r\nsecond\r\n{PROMPT}"),
    ("out", "WRITE 4-1 201 = ****\r"), ("in", f"WRITE 4-1 201 = ****\r\nOK\r\n{PROMPT}"),
    ("out", "EXIT\r"), ("in", "EXIT\r\nBYE\r\n"),
]


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "transcript.jsonl"
    lines = [json.dumps({"transcript": 1, "started": "2026-01-01T00:00:00+00:00"})]
    lines += [json.dumps({"t": i / 10, "dir": d, "data": data})
              for i, (d, data) in enumerate(CHUNKS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def session(path: Path, *, login_required: bool) -> tuple[ReplaySession, list[bytes]]:
    sent: list[bytes] = []
    replay = ReplaySession(load_recording(path), login_required=login_required,
                           send=sent.append)
    replay.start()
    return replay, sent


def typed(replay: ReplaySession, sent: list[bytes], line: str) -> str:
    sent.clear()
    replay.feed(line.encode() + b"\r")
    return b"".join(sent).decode()


def test_kth_reply_then_the_last_again_and_any_password(recording: Path) -> None:
    replay, sent = session(recording, login_required=True)
    assert b"".join(sent) == b"Login: "
    assert typed(replay, sent, "someone").endswith("Password: ")
    assert typed(replay, sent, "any-password-at-all").endswith(PROMPT)
    assert "first" in typed(replay, sent, "ALM")
    assert "second" in typed(replay, sent, "alm")
    assert "second" in typed(replay, sent, "ALM")
    assert "OK" in typed(replay, sent, "WRITE 4-1 201 = 7731")
    assert typed(replay, sent, "EXIT").endswith("BYE\r\n")
    assert replay.closed


def test_without_a_login_line_the_dialogue_is_skipped(recording: Path) -> None:
    replay, sent = session(recording, login_required=False)
    assert b"".join(sent).decode() == PROMPT
    assert "first" in typed(replay, sent, "ALM")


def test_an_unknown_command_is_the_dialect_error_and_logged(
        recording: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    replay, sent = session(recording, login_required=False)
    reply = typed(replay, sent, "CARD 9")
    assert reply == f"CARD 9\r\nERROR 01: UNKNOWN COMMAND\r\n{PROMPT}"
    assert "not in the recording: 'CARD 9'" in caplog.text
