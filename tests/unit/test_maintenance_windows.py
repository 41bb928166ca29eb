"""Maintenance windows as the inventory and ``--until`` read them; the register keeps them
(a real SQLite file, migrated from the schema before windows existed)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.errors import InventoryError
from agent.inventory import inventory_problems, load_inventory
from agent.maintenance import LONDON, active, parse_until
from agent.tickets.register import Register
from agent.tickets.schema import MIGRATIONS

NOW = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
SITE = """\
sites:
  acme-bolton:
    customer: Acme Ltd
    vendor: panasonic
    paths: ["tcp://127.0.0.1:2323"]
    maintenance:
{windows}
"""


@pytest.mark.parametrize(("text", "later"), [
    ("4h", timedelta(hours=4)), ("90m", timedelta(minutes=90)), ("1d", timedelta(days=1)),
    ("1h30m", timedelta(minutes=90))])
def test_until_reads_durations_from_now(text: str, later: timedelta) -> None:
    assert parse_until(text, NOW) == NOW + later


def test_until_reads_iso_times_and_a_time_without_a_zone_is_london() -> None:
    assert parse_until("2026-05-02T12:00", NOW) == datetime(2026, 5, 2, 12, 0, tzinfo=LONDON)
    assert parse_until("2026-05-02T12:00Z", NOW) == datetime(2026, 5, 2, 12, 0, tzinfo=UTC)
    for bad in ("soon", "4x", "", "h"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_until(bad, NOW)


def test_the_inventory_reads_quoted_and_unquoted_yaml_times(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text(SITE.format(windows="      - {from: 2026-05-02 08:00:00, until: "
                                        "'2026-05-02T12:00', reason: card swap}"))
    (window,) = load_inventory(path).site("acme-bolton").maintenance
    assert window.starts == datetime(2026, 5, 2, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert window.ends == datetime(2026, 5, 2, 11, 0, tzinfo=UTC)
    assert (window.reason, window.source) == ("card swap", "inventory")
    assert active([window], NOW) == window
    assert active([window], window.ends) is None


@pytest.mark.parametrize(("entry", "marker", "message"), [
    ("{from: '2026-05-02T08:00', until: 'tea time', reason: x}", "'tea time'",
     "maintenance until: not an ISO 8601 date-time: 'tea time'"),
    ("{from: '2026-05-02T08:00', until: '2026-07-02T08:00', reason: x}", "'2026-07",
     "a window may last at most 31 days"),
    ("{from: '2026-05-02T08:00', reason: x}", "{", "'until' is a required property"),
    ("{from: '2026-05-02T08:00', until: '2026-05-02T09:00', reason: x, by: me}", "by:",
     "unknown key 'by'"),
])
def test_a_bad_window_is_reported_at_its_line_and_column(
        tmp_path: Path, entry: str, marker: str, message: str) -> None:
    path = tmp_path / "sites.yaml"
    line = f"      - {entry}"
    path.write_text(SITE.format(windows=line))
    (problem,) = inventory_problems(path)
    assert (problem.line, problem.column) == (7, line.index(marker) + 1), problem.located()
    assert message in problem.message
    with pytest.raises(InventoryError):
        load_inventory(path)


def test_the_register_migrates_to_windows_and_keeps_who_set_and_ended_them(
        tmp_path: Path) -> None:
    db = tmp_path / "register.db"
    conn = sqlite3.connect(db)
    for migration in MIGRATIONS[:-1]:
        migration(conn)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    conn.commit()
    conn.close()
    with Register(db) as reg:
        assert reg.schema_version == len(MIGRATIONS)
        window = reg.set_maintenance("acme-bolton", starts=NOW, ends=NOW + timedelta(hours=4),
                                     reason="card swap", who="alice", now=NOW)
        assert reg.maintenance_windows(at=NOW + timedelta(hours=1)) == [window]
        (ended,) = reg.end_maintenance("acme-bolton", who="bob", now=NOW + timedelta(hours=1))
        assert (ended.set_by, ended.ended_by) == ("alice", "bob")
        assert reg.maintenance_windows(at=NOW + timedelta(hours=2)) == []
        assert reg.maintenance_windows(site_id="acme-bolton") == [ended]  # kept, not deleted
