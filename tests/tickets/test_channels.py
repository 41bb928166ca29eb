"""A channel is one module: dropped into the channels package, it is found and used."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.tickets import channels
from agent.tickets.flush import flush_outbox
from agent.tickets.register import Register
from agent.tickets.settings import parse_settings

from .conftest import NOW, record

PIGEON = '''\
"""A test channel: appends each delivery's event id to a file (its "loft")."""
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PigeonSettings:
    loft: Path
    timeout: float = 1.0


class PigeonSender:
    def __init__(self, loft: Path) -> None:
        self.loft = loft

    def send(self, message) -> None:
        with self.loft.open("a") as out:
            out.write(f"{message.event_id} {message.event} {message.payload['ref']}\\n")

    def close(self) -> None:
        pass


class PigeonChannel:
    name = "pigeon"

    def parse(self, raw, base):
        return PigeonSettings(loft=base / raw["loft"])

    def open(self, notifications):
        return PigeonSender(notifications.channels[self.name].loft)


CHANNEL = PigeonChannel()
'''


@pytest.fixture
def dropped_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``pigeon.py`` in a folder of the channels package (its ``__path__``), for this test."""
    folder = tmp_path / "more_channels"
    folder.mkdir()
    (folder / "pigeon.py").write_text(textwrap.dedent(PIGEON))
    monkeypatch.setattr(channels, "__path__", [*channels.__path__, str(folder)])
    yield folder
    sys.modules.pop(f"{channels.__name__}.pigeon", None)


def test_the_shipped_channels_are_found_by_scanning_the_package() -> None:
    assert channels.names() == ("email", "webhook")


def test_a_dropped_in_channel_is_discovered_queued_and_delivered_once(
        db: Path | str, dropped_in: Path, tmp_path: Path) -> None:
    assert channels.names() == ("email", "pigeon", "webhook")
    settings = parse_settings({"pigeon": {"loft": "loft.txt"}}, tmp_path)
    assert list(settings.channels) == ["pigeon"]
    with Register(db) as reg:
        ref = record(reg).ticket.ref
        assert [m.channel for m in reg.outbox(ref=ref)] == ["email", "pigeon", "webhook"]
        report = flush_outbox(reg, settings, clock=lambda: NOW)
        assert report.sent == [f"{ref}.1 pigeon"]
        assert report.skipped == [f"{ref}.1 email", f"{ref}.1 webhook"]
        again = flush_outbox(reg, settings, clock=lambda: NOW)
        assert again.sent == [] and again.ok
        (sent,) = reg.outbox(ref=ref, channel="pigeon")
        assert sent.status == "sent"
    assert (tmp_path / "loft.txt").read_text() == f"{ref}.1 opened {ref}\n"
