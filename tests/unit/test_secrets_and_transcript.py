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


def test_a_noisy_echo_is_masked_inside_the_echo_window(tmp_path: Path) -> None:
    """Issue 13 #7: the PBX echoed the password with line noise inside it."""
    secret = Secret("Kx9-noisy-pass")
    transcript = Transcript()
    transcript.sent_secret(b"\r", secret.reveal())
    transcript.received(b"Kx9-no\x8aisy-p")
    transcript.received(b"a\x13ss\r\nKX-TDE200> ")
    transcript.sent(b"LIST\r")  # our next send closes the window
    # the whole echo, the two noise bytes inside it included, is masked; the prompt is kept
    assert transcript.text() == "*" * 16 + "\nKX-TDE200> "


def test_outside_the_echo_window_only_exact_secrets_are_masked() -> None:
    secret = Secret("abcd-efgh")
    transcript = Transcript()
    transcript.sent_secret(b"\r", secret.reveal())
    transcript.received(b"\r\n> ")
    transcript.sent(b"SHOW\r")
    # the same characters spread through ordinary output after the window: kept as sent
    transcript.received(b"a.b.c.d-e.f.g.h and abcd-efgh\r\n> ")
    text = transcript.text()
    assert "a.b.c.d-e.f.g.h" in text
    assert "abcd-efgh" not in text


def test_a_secret_shorter_than_four_characters_is_refused() -> None:
    import pytest

    from agent.line.secrets import MIN_SECRET_LEN, SecretTooShort

    with pytest.raises(SecretTooShort, match=f"at least {MIN_SECRET_LEN} characters"):
        Secret("x")
    assert REDACTOR.scrub("extensions") == "extensions"  # "x" never became a mask
    assert not Secret("")  # no password at all is still allowed
