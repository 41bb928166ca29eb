"""The CLI's last guard, closed pipes and file permissions (issues 12 #7, 13 #1 and #6)."""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agent import cli
from agent.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL
from agent.line.secrets import Secret


def _parser_raising(error: Exception) -> argparse.ArgumentParser:
    def handler(_args: argparse.Namespace) -> int:
        raise error

    parser = argparse.ArgumentParser(prog="pbxdiag")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.set_defaults(handler=handler)
    return parser


def test_an_unexpected_exception_is_exit_70_with_a_redacted_crash_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    secret = Secret("hunter2-very-secret")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "build_parser",
                        lambda: _parser_raising(KeyError(f"bad {secret.reveal()}")))
    code = cli.main([])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL == 70
    assert "Traceback" not in err
    assert "internal error (KeyError" in err and "crash report: " in err
    assert secret.reveal() not in err
    report = Path(err.split("crash report: ")[1].strip())
    text = report.read_text(encoding="utf-8")
    assert "Traceback" in text and "KeyError" in text
    assert secret.reveal() not in text and "********" in text
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700


def test_a_register_urls_password_never_reaches_the_crash_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from agent.crash import write_crash_report
    from agent.tickets.storage.location import parse_location

    parse_location("postgresql://desk:Long-Pass-81@db.example/register")
    report = write_crash_report(
        KeyError("connection to postgresql://desk:Long-Pass-81@db.example failed"),
        ["tickets", "list", "--db", "postgresql://desk:s3@db.example/register",
         "--db=postgres://desk:s3@db.example/r?password=s4"], folder=tmp_path)
    assert report is not None
    text = report.read_text(encoding="utf-8")
    assert "Long-Pass-81" not in text  # known to the redactor once parsed
    assert ":s3@" not in text and "password=s4" not in text  # too short to redact: masked
    assert "desk:***@db.example/register" in text and "--db=postgres://desk:***@" in text


@pytest.mark.parametrize("args", [["playbook", "schema"],
                                  ["tickets", "list"]])
def test_a_closed_output_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    if args[0] == "tickets":
        args = [*args, "--db", str(tmp_path / "tickets.db")]
    process = subprocess.Popen([sys.executable, "-m", "agent.cli", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first byte is written (the
    # child is still importing): its first write fails with EPIPE whatever its size
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    subprocess.run(f"umask 022; exec {sys.executable} -m agent.cli demo", shell=True,
                   cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    created = [p for p in (tmp_path / "demo-output").rglob("*")]
    assert created
    for path in created:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    run = subprocess.run([sys.executable, "-m", "agent.cli", "--version"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0
    assert run.stdout.strip() == f"pbxdiag {version('pbxdiag')}"
