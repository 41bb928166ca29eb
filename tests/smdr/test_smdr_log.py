"""The monitor's storage in a real SQLite register: positions, retention, the 510 excuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.tickets.schema import MIGRATIONS
from agent.tickets.storage.smdr import NewItem, SmdrLog

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def item(kind: str, raw: str) -> NewItem:
    return NewItem(kind, raw, "2026-05-01T11:00:00", {"raw": raw})


def test_retention_deletes_old_records_and_positions_are_never_reused(tmp_path: Path) -> None:
    with SmdrLog(tmp_path / "r.db") as log:
        assert log._store.schema_version == len(MIGRATIONS)
        log.append("s", [item("record", "r1"), item("alarm", "a1")], connection=1,
                   now=NOW - timedelta(days=400))
        assert log.prune("s", before=NOW - timedelta(days=365)) == 1
        assert [i.raw for i in log.items(site_id="s", kinds=("record", "alarm"))] == ["a1"]
        [stored] = log.append("s", [item("record", "r2")], connection=2, now=NOW)
        assert stored.pos == 3 and log.position("s") == 3


def test_the_510_excuse_is_for_the_next_connection_only_and_once(tmp_path: Path) -> None:
    with SmdrLog(tmp_path / "r.db") as log:
        assert log.begin_connection("s", now=NOW) == (1, False)  # first ever: no excuse
        assert not log.take_excuse("s", 1)
        assert log.begin_connection("s", now=NOW) == (2, True)
        assert not log.take_excuse("s", 1)
        assert log.take_excuse("s", 2)
        assert not log.take_excuse("s", 2)
