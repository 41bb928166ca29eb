"""Cleaning console replies: echo, ANSI escapes, pager erasures and line endings."""

from __future__ import annotations

from agent.line.console import clean_output


def test_echo_and_crlf_removed() -> None:
    assert clean_output("VER\r\nSystem Model   : KX-TDE200\r\n", echo="VER") == (
        "System Model   : KX-TDE200")


def test_pager_erasure_keeps_the_line_after_it() -> None:
    raw = "line 1\r\n\r           \rline 2\r\n"
    assert clean_output(raw) == "line 1\nline 2"


def test_ansi_sequences_are_stripped() -> None:
    assert clean_output("\x1b[2J\x1b[1;1HNO ALARM\r\n") == "NO ALARM"


def test_output_that_merely_starts_like_the_command_is_kept() -> None:
    assert clean_output("CO  CAB SLT\r\n", echo="CO") == "CO  CAB SLT"
