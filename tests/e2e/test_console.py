"""``pbxdiag console`` as an engineer uses it: the real CLI in a subprocess, real simulators
on SSH, telnet and a modem, piped stdin and a pty; the transcript redacted, the modem
on-hook whatever ends the session, and a console and a run never on one line at once."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.tickets.register import Register
from simulators import PbxState, load_scenario, serve_ssh
from simulators.lines import PhoneBook, serve_modem, serve_telnet
from simulators.lines.session import login_session_maker
from simulators.ssh_server import ConsoleSession
from tests.e2e.conftest import INVENTORY
from tests.transports.conftest import modem_url

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Console-Pbx-Secret-4471"
TYPED_SECRET = "Typed-At-Pbx-8812"
VARIABLE = "PBXDIAG_CONSOLE_PASSWORD"


def write_inventory(folder: Path, url: str) -> Path:
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY.format(path=url, variable=VARIABLE))
    return path


def pbxdiag_args(folder: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, VARIABLE: PASSWORD, "XDG_DATA_HOME": str(folder / "xdg")}
    return [sys.executable, "-m", "agent.cli", *args], env


def console_args(folder: Path, *extra: str) -> list[str]:
    return ["console", "--site", "acme-bolton", "--inventory", str(folder / "inventory.yaml"),
            "--output", str(folder / "data"), "--db", str(folder / "tickets.db"), *extra]


def console(folder: Path, stdin: str, *extra: str) -> subprocess.CompletedProcess[str]:
    argv, env = pbxdiag_args(folder, *console_args(folder, *extra))
    return subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def session_dir(folder: Path) -> Path:
    (found,) = (folder / "data" / "console").iterdir()
    return found


def transcript_chunks(folder: Path) -> list[dict[str, str]]:
    lines = (session_dir(folder) / "transcript.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[1:]]


def every_file_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*")
                   if p.is_file() and p.suffix != ".db")


class AsksForAPassword:
    """A PBX command that asks for a password at the PBX's own prompt, and echoes it back
    (a badly configured one): ``PASS`` → ``Password: `` → the typed line → ``OK``."""

    def __init__(self, pbx: PbxState, send: Callable[[bytes], None]) -> None:
        self._send = send
        self._asking = False
        self._typed = b""
        self.inner: ConsoleSession = login_session_maker(pbx, password=PASSWORD)(send)

    @property
    def closed(self) -> bool:
        return self.inner.closed

    def start(self) -> None:
        self.inner.start()

    def feed(self, data: bytes) -> None:
        if self._asking:
            self._typed += data
            if b"\r" in self._typed:
                self._asking = False
                typed = self._typed.partition(b"\r")[0]
                self._send(typed + b"\r\nOK\r\n" + f"{PBX_MODEL}> ".encode())
            return
        if data.strip() == b"PASS":
            self._asking = True
            self._typed = b""
            self._send(b"PASS\r\nPassword: ")
            return
        self.inner.feed(data)

    def close(self) -> None:
        self.inner.close()


PBX_MODEL = "KX-TDE200"


@pytest.fixture
def ssh_site(tmp_path: Path) -> Iterator[PbxState]:
    pbx = load_scenario("panasonic-healthy")
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as endpoint:
        (tmp_path / "known_hosts").write_text(endpoint.known_hosts_line() + "\n")
        write_inventory(tmp_path, f"ssh://INSTALLER@127.0.0.1:{endpoint.port}")
        yield pbx


@pytest.fixture
def modem_site(tmp_path: Path) -> Iterator[PhoneBook]:
    pbx = load_scenario("panasonic-healthy")
    book = PhoneBook()
    book.add_site("599", pbx, password=PASSWORD)
    with serve_modem(book, state_dir=tmp_path / "modem") as endpoint:
        (tmp_path / "known_hosts").write_text("")
        write_inventory(tmp_path, modem_url(endpoint))
        yield endpoint  # type: ignore[misc]


def test_console_over_ssh_piped_commands_escapes_backup_and_transcript(
        ssh_site: PbxState, tmp_path: Path) -> None:
    done = console(tmp_path, "VER\n~g cards\n~?\n~b\nNOSUCH\n~.\nVER\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "KX-TDE200" in out and "ERROR 01: UNKNOWN COMMAND" in out
    assert "cards:" in out and "IPCMPR" in out and "in_service" in out  # the table
    assert "~g GETTER" in out  # the help
    assert out.count("> VER\n") == 1, "nothing after ~. reached the PBX"
    folder = session_dir(tmp_path)
    assert (folder / "backup.txt").read_text().strip(), "the automatic backup"
    assert (folder / "backup-2.txt").exists(), "~b"
    assert f"transcript: {folder / 'transcript.jsonl'}" in done.stderr
    record = json.loads((folder / "session.json").read_text())
    assert record["ended"] == "~." and record["lines_sent"] == 2
    assert record["path"].startswith("ssh://")
    sent = "".join(c["data"] for c in transcript_chunks(tmp_path) if c["dir"] == "out")
    assert "VER\r" in sent and "NOSUCH\r" in sent
    assert PASSWORD not in every_file_text(tmp_path)
    listed, env = pbxdiag_args(tmp_path, "backups", "list", "--site", "acme-bolton",
                               "--output", str(tmp_path / "data"), "--json")
    history = subprocess.run(listed, env=env, capture_output=True, text=True, timeout=60,
                             check=False)
    assert history.returncode == 0, history.stderr
    revisions = json.loads(history.stdout)
    revisions = revisions["revisions"] if isinstance(revisions, dict) else revisions
    assert [r["source"] for r in revisions] == ["console session"]  # ~b: same text, kept once


def test_console_over_telnet_masks_a_password_typed_at_the_pbx_prompt(tmp_path: Path) -> None:
    pbx = load_scenario("panasonic-healthy")
    with serve_telnet(pbx, password=PASSWORD,
                      session_maker=lambda send: AsksForAPassword(pbx, send)) as endpoint:
        (tmp_path / "known_hosts").write_text("")
        write_inventory(tmp_path, endpoint.url)
        done = console(tmp_path, f"PASS\n{TYPED_SECRET}\nVER\n")
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout
    chunks = transcript_chunks(tmp_path)
    sent = "".join(c["data"] for c in chunks if c["dir"] == "out")
    received = "".join(c["data"] for c in chunks if c["dir"] == "in")
    assert "PASS\r" in sent and "********\r" in sent and "VER\r" in sent
    assert "*" * len(TYPED_SECRET) in received, "its echo masked by the echo-window rule"
    assert json.loads((session_dir(tmp_path) / "session.json").read_text())["ended"] \
        == "end of input"
    text = every_file_text(tmp_path) + done.stdout + done.stderr
    assert TYPED_SECRET not in every_file_text(tmp_path)
    assert PASSWORD not in text


@pytest.mark.parametrize("ending", ["~.", "EOF"])
def test_console_over_the_modem_hangs_up_after_escape_and_eof(
        modem_site: object, tmp_path: Path, ending: str) -> None:
    endpoint = modem_site
    stdin = "VER\n~.\n" if ending == "~." else "VER\n"
    done = console(tmp_path, stdin)
    assert done.returncode == 0, done.stderr
    assert "KX-TDE200" in done.stdout
    assert endpoint.modem.wait_on_hook(5), "the modem was left off-hook"  # type: ignore[attr-defined]
    ended = json.loads((session_dir(tmp_path) / "session.json").read_text())["ended"]
    assert ended == ("~." if ending == "~." else "end of input")


def _read_until(fd: int, needle: bytes, timeout: float = 60) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"never saw {needle!r}; got {data!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"stream closed before {needle!r}; got {data!r}"
        data += chunk
    return data


def test_console_over_the_modem_hangs_up_on_sighup(modem_site: object, tmp_path: Path) -> None:
    endpoint = modem_site
    argv, env = pbxdiag_args(tmp_path, *console_args(tmp_path))
    process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        _read_until(process.stderr.fileno(), b"backup saved")
        process.send_signal(signal.SIGHUP)
        assert process.wait(30) == 128 + signal.SIGHUP
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert endpoint.modem.wait_on_hook(5), "a closed terminal left the modem off-hook"  # type: ignore[attr-defined]
    record = json.loads((session_dir(tmp_path) / "session.json").read_text())
    assert record["ended"] == "ended by SIGHUP"
    assert (session_dir(tmp_path) / "transcript.jsonl").exists()


def test_console_on_a_pty_runs_raw_and_restores_the_terminal(ssh_site: PbxState,
                                                             tmp_path: Path) -> None:
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    argv, env = pbxdiag_args(tmp_path, *console_args(tmp_path))
    process = subprocess.Popen(argv, env=env, stdin=slave, stdout=slave, stderr=slave)
    try:
        _read_until(master, b"KX-TDE200> ")
        assert not termios.tcgetattr(slave)[3] & termios.ECHO, "raw mode: no local echo"
        os.write(master, b"VER\r")
        _read_until(master, b"KX-TDE200> ")  # the PBX's echo, its reply, its prompt
        os.write(master, b"~g trunks\r")
        _read_until(master, b"trunks:")
        os.write(master, b"\r~.")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        after = termios.tcgetattr(slave)
        os.close(master)
        os.close(slave)
    assert after == before, "the terminal was left in raw mode"
    sent = "".join(c["data"] for c in transcript_chunks(tmp_path) if c["dir"] == "out")
    assert "VER\r" in sent and "~g" not in sent, "escapes never reach the PBX"


def test_a_run_is_refused_while_a_console_holds_the_line_naming_it(
        ssh_site: PbxState, tmp_path: Path) -> None:
    argv, env = pbxdiag_args(tmp_path, *console_args(tmp_path))
    process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None and process.stdin is not None
        _read_until(process.stderr.fileno(), b"backup saved")
        run_argv, _ = pbxdiag_args(
            tmp_path, "run", str(REPO / "playbooks" / "health-check.yaml"), "--site",
            "acme-bolton", "--inventory", str(tmp_path / "inventory.yaml"), "--output",
            str(tmp_path / "data"), "--db", str(tmp_path / "tickets.db"), "--line-wait", "0")
        run = subprocess.run(run_argv, env=env, capture_output=True, text=True, timeout=60,
                             check=False)
        assert run.returncode == 3, run.stderr
        assert "in use by pbxdiag console" in run.stderr and f"pid {process.pid}" in run.stderr
        second = console(tmp_path, "~.\n", "--line-wait", "0")
        assert second.returncode == 3 and "in use by pbxdiag console" in second.stderr
        fleet_argv, _ = pbxdiag_args(
            tmp_path, "fleet", "health-check", "--inventory", str(tmp_path / "inventory.yaml"),
            "--output", str(tmp_path / "data"), "--db", str(tmp_path / "tickets.db"),
            "--line-wait", "0", "--json")
        fleet = subprocess.run(fleet_argv, env=env, capture_output=True, text=True,
                               timeout=60, check=False)
        assert fleet.returncode == 3, fleet.stdout + fleet.stderr
        line = json.loads(fleet.stdout.splitlines()[0])
        assert line["status"] == "busy" and "in use by pbxdiag console" in line["error"]
        process.stdin.close()  # end of input: the first session ends, the line is free
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert not (tmp_path / "data" / "runs").exists(), "the refused run dialled nothing"


def test_ticket_records_the_session_as_tried_remotely(tmp_path: Path) -> None:
    pbx = load_scenario("panasonic-dead-trunk-card")
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD) as endpoint:
        (tmp_path / "known_hosts").write_text(endpoint.known_hosts_line() + "\n")
        write_inventory(tmp_path, f"ssh://INSTALLER@127.0.0.1:{endpoint.port}")
        run_argv, env = pbxdiag_args(
            tmp_path, "run", str(REPO / "playbooks" / "health-check.yaml"), "--site",
            "acme-bolton", "--inventory", str(tmp_path / "inventory.yaml"), "--output",
            str(tmp_path / "data"), "--db", str(tmp_path / "tickets.db"), "--json")
        run = subprocess.run(run_argv, env=env, capture_output=True, text=True, timeout=120,
                             check=False)
        assert run.returncode == 1, run.stderr
        ref = json.loads(run.stdout)["tickets"][0]["ref"]
        done = console(tmp_path, "CO\n~.\n", "--ticket", ref)
    assert done.returncode == 0, done.stderr
    with Register(tmp_path / "tickets.db") as register:
        entries = [e for e in register.audit(ref) if e.action == "tried_remotely"]
    assert len(entries) == 1
    assert session_dir(tmp_path).name in entries[0].detail
    assert "1 line(s) typed" in entries[0].detail


def test_an_unknown_ticket_is_bad_input_before_dialling(ssh_site: PbxState,
                                                        tmp_path: Path) -> None:
    done = console(tmp_path, "~.\n", "--ticket", "FR-NOPE-1")
    assert done.returncode == 2, done.stderr
    assert "FR-NOPE-1" in done.stderr
    assert not (tmp_path / "data" / "console").exists()
