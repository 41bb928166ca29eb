"""Secrets never print; transcripts mask them even when split across reads."""

from __future__ import annotations

import json
from pathlib import Path

from agent.line.secrets import MASK, REDACTOR, Secret
from agent.line.transcript import Transcript


def test_secret_never_formats_its_value() -> None:
    secret = Secret("hunter2-pbx")
    assert "hunter2" not in str(secret)
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in f"{secret} {secret!r}"
    assert secret.reveal() == "hunter2-pbx"


def test_redactor_scrubs_every_known_value() -> None:
    Secret("alpha-one-9")
    assert REDACTOR.scrub("login alpha-one-9 ok") == f"login {MASK} ok"


def test_transcript_masks_secret_echoed_across_chunks(tmp_path: Path) -> None:
    Secret("Zq7-split-secret")
    transcript = Transcript()
    transcript.sent_secret(b"\r")
    for piece in (b"Password: Zq7-sp", b"lit-se", b"cret\r\nKX-TDE200> "):
        transcript.received(piece)
    saved = transcript.save(tmp_path / "t.jsonl").read_text()
    assert "Zq7" not in saved and "split-se" not in saved and "cret\\r" not in saved
    lines = [json.loads(line) for line in saved.splitlines()]
    assert lines[0]["transcript"] == 1
    assert lines[1] == {"t": lines[1]["t"], "dir": "out", "data": MASK + "\r"}
    assert "KX-TDE200> " in "".join(line.get("data", "") for line in lines[2:])
