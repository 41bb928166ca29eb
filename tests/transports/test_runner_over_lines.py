"""A whole run over the new lines: path fallback recorded, and the password — echoed back
in pieces by a badly configured PBX on a slow line — in no file, log or message."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.inventory import CredentialRef, Site
from agent.playbook import parse_playbook
from agent.result import RunStatus
from agent.runner import run_site
from simulators import PbxState
from simulators.lines import LineConditions, PhoneBook, serve_modem, serve_telnet
from simulators.lines.session import SessionMaker, login_session_maker
from simulators.ssh_server import ConsoleSession

from .conftest import modem_url

SECRET = "Echoed-Back-Pw-5512"
VARIABLE = "PBXDIAG_LINES_TEST_PASSWORD"
PLAYBOOK = parse_playbook("""\
name: Identity
steps:
  - name: System identity
    get: system_info
    expect:
      - result.model != ""
""")


class EchoesPasswords:
    """A badly configured PBX: it echoes the password as it is typed."""

    def __init__(self, inner: SessionMaker, send: Callable[[bytes], None]) -> None:
        self._send = send
        self._echo = False
        self.inner: ConsoleSession = inner(self._watch)

    @property
    def closed(self) -> bool:
        return self.inner.closed

    def _watch(self, data: bytes) -> None:
        self._send(data)
        self._echo = data.endswith(b"Password: ")

    def start(self) -> None:
        self.inner.start()

    def feed(self, data: bytes) -> None:
        if self._echo:
            typed, end, _ = data.partition(b"\r")
            self._send(typed)
            self._echo = not end
        self.inner.feed(data)

    def close(self) -> None:
        self.inner.close()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def site(*paths: str, tmp_path: Path) -> Site:
    return Site(id="acme-bolton", customer="Acme Ltd", name="Bolton", vendor="panasonic",
                paths=paths, credentials=CredentialRef(username="INSTALLER",
                                                       password_env=VARIABLE),
                known_hosts=tmp_path / "known_hosts", timeout=5)


def every_file(folder: Path) -> dict[Path, str]:
    return {p: p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()}


def test_unreachable_ssh_then_telnet_uses_telnet_records_why_and_leaks_nothing(
        pbx: PbxState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(VARIABLE, SECRET)
    caplog.set_level(logging.DEBUG)
    inner = login_session_maker(pbx, password=SECRET)

    def echoing(send: Callable[[bytes], None]) -> ConsoleSession:
        return EchoesPasswords(inner, send)

    dead = f"ssh://INSTALLER@127.0.0.1:{unused_port()}"
    slow = LineConditions(baud=2400)  # the echo arrives a few bytes per read
    with serve_telnet(pbx, password=SECRET, conditions=slow,
                      session_maker=echoing) as endpoint:
        result, files = run_site(site(dead, endpoint.url, tmp_path=tmp_path), PLAYBOOK,
                                 output_dir=tmp_path / "out")

    assert result.status is RunStatus.PASSED, result.error
    assert result.path == endpoint.url
    first, second = result.paths_tried
    assert first.url == dead and "cannot connect" in first.error and "refused" in first.error
    assert (second.url, second.error) == (endpoint.url, "")

    inbound = [json.loads(line) for line in files.transcript.read_text().splitlines()[1:]]
    received = [c["data"] for c in inbound if c["dir"] == "in"]
    stream = "".join(received)
    mask = "*" * len(SECRET)
    assert mask in stream, "the PBX did echo the password (masked in the transcript)"
    starts = [sum(len(c) for c in received[:i]) for i in range(len(received))]
    at = stream.index(mask)
    assert any(at < s < at + len(mask) for s in starts), "the echo arrived in pieces"

    written = every_file(tmp_path / "out")
    assert files.result in written and files.transcript in written
    output = capfd.readouterr()
    for where, text in [*written.items(), ("stdout", output.out), ("stderr", output.err),
                        ("log", caplog.text), ("result", repr(result))]:
        assert SECRET not in text, where
        assert SECRET[:8] not in text and SECRET[-8:] not in text, where


def test_busy_modem_then_telnet(pbx: PbxState, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, SECRET)
    book = PhoneBook()
    book.busy("599")
    with serve_modem(book, state_dir=tmp_path / "modem") as modem, \
            serve_telnet(pbx, password=SECRET) as endpoint:
        result, _ = run_site(site(modem_url(modem, retries=1), endpoint.url,
                                  tmp_path=tmp_path), PLAYBOOK, output_dir=tmp_path / "out")
        assert modem.modem.wait_on_hook(5)
    assert result.status is RunStatus.PASSED and result.path == endpoint.url
    assert result.paths_tried[0].url.startswith("modem://")
    assert "BUSY (after 2 attempts)" in result.paths_tried[0].error
    assert book.dialled == ["599", "599"]


def test_a_line_that_opens_but_gives_no_session_falls_through(
        pbx: PbxState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal server that accepts TCP and drops it (its device is dead): the login
    drops, so the next path is tried and both attempts are recorded."""
    monkeypatch.setenv(VARIABLE, SECRET)
    with socket.create_server(("127.0.0.1", 0)) as dead:
        stop = threading.Event()

        def hang_up() -> None:
            dead.settimeout(0.1)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    dead.accept()[0].close()

        closer = threading.Thread(target=hang_up, daemon=True)
        closer.start()
        first = f"telnet://127.0.0.1:{dead.getsockname()[1]}"
        try:
            with serve_telnet(pbx, password=SECRET) as endpoint:
                result, _ = run_site(site(first, endpoint.url, tmp_path=tmp_path), PLAYBOOK,
                                     output_dir=tmp_path / "out")
        finally:
            stop.set()
            closer.join(5)
    assert result.status is RunStatus.PASSED, result.error
    assert result.path == endpoint.url
    assert result.paths_tried[0].url == first
    assert result.paths_tried[0].error.startswith("LineDropped")
    assert (result.paths_tried[1].url, result.paths_tried[1].error) == (endpoint.url, "")


def test_a_refused_login_stops_at_that_path(pbx: PbxState, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The PBX said no: the next path reaches the same PBX with the same credentials."""
    monkeypatch.setenv(VARIABLE, "Wrong-Password-123")
    with serve_telnet(pbx, password=SECRET) as refusing, \
            serve_telnet(pbx, password=SECRET) as second:
        result, _ = run_site(site(refusing.url, second.url, tmp_path=tmp_path), PLAYBOOK,
                             output_dir=tmp_path / "out")
        assert second.stats.calls == 0, "the second path was never dialled"
    assert result.status is RunStatus.UNREACHABLE
    assert result.error is not None and result.error.startswith("AuthFailed")
    assert [a.url for a in result.paths_tried] == [refusing.url]
    assert result.paths_tried[0].error.startswith("AuthFailed") and result.path is None


def test_paths_not_started_within_the_site_reach_timeout_are_recorded_not_tried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal server port that accepts and never speaks holds the first path for the
    site's timeout; with reach_timeout spent by then, the second path is not tried."""
    monkeypatch.setenv(VARIABLE, SECRET)
    quiet = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        quiet.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(quiet.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = quiet.getsockname()[1]
        slow = site(f"tcp://127.0.0.1:{port}", f"telnet://127.0.0.1:{port + 1}",
                    tmp_path=tmp_path)
        slow = dataclasses.replace(slow, timeout=1.0, reach_timeout=0.5)
        result, _ = run_site(slow, PLAYBOOK, output_dir=tmp_path / "out")
    finally:
        stop.set()
        thread.join(5)
        quiet.close()
        for conn in accepted:
            conn.close()
    assert result.status is RunStatus.UNREACHABLE
    first, second = result.paths_tried
    assert first.reached and "CommandTimeout" in first.error
    assert second.error.startswith("not tried: the site's 0.5 s for reaching the PBX")
