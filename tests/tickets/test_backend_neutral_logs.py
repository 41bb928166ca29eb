"""The runs and SMDR tables on both backends (the same SQL, storage/smdr.py), and the
register named by a config file's ``register: {url: …}`` (password never shown)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.tickets.storage.smdr import NewItem, SmdrLog
from tests.dbservers import PostgresServer, fresh_database

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_the_smdr_log_keeps_positions_signals_and_calls(db: Path | str) -> None:
    def call(raw: str, direction: str, co: str) -> NewItem:
        return NewItem("record", raw, "2026-05-01T11:00:00",
                       {"raw": raw, "direction": direction, "co": co})

    with SmdrLog(db) as log:
        assert log.begin_connection("s", now=NOW) == (1, False)
        assert log.begin_connection("s", now=NOW) == (2, True)
        assert log.take_excuse("s", 2) and not log.take_excuse("s", 2)
        stored = log.append("s", [call("c1", "outgoing", "01"), call("c2", "incoming", "02"),
                                  call("c3", "outgoing", ""),
                                  NewItem("alarm", "a1", None, {"raw": "a1"})],
                            connection=2, now=NOW)
        assert [i.pos for i in stored] == [1, 2, 3, 4] and log.position("s") == 4
        assert log.outgoing_at("s", since="2026-05-01T00:00:00") == ["2026-05-01T11:00:00"]
        assert [i.raw for i in log.items(site_id="s", kinds=("alarm", "record"))] == [
            "c1", "c2", "c3", "a1"]
        assert [i.raw for i in log.items(site_id="s", kinds=("alarm",))] == ["a1"]
        (alarm,) = log.unfiled_alarms("s")
        log.mark_filed(alarm.id, "FR-2026-000001")
        assert log.unfiled_alarms("s") == []
        window = NOW - timedelta(hours=2)
        claim = log.claim_signal("s", "silent", window=window, detected_at=NOW, detail={"n": 1})
        assert claim is not None
        assert log.claim_signal("s", "silent", window=window, detected_at=NOW,
                                detail={"n": 2}) is None  # once per window
        log.record_signal_run(claim, run_id="run-1", outcome="confirmed")
        assert [(s.id, s.run_id, s.detail) for s in log.signals("s")] == [
            (claim, "run-1", {"n": 1})]
        assert log.prune("s", before=NOW + timedelta(seconds=1)) == 3
        assert log.tail("s", 10) == ["a1"]


def test_a_config_register_url_is_used_and_shown_without_its_password(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server).replace("postgres@", "postgres:pw-in-url@")
    (tmp_path / "cfg" / "pbxdiag").mkdir(parents=True)
    (tmp_path / "cfg" / "pbxdiag" / "config.yaml").write_text(f"register:\n  url: {url}\n")
    env = {k: v for k, v in os.environ.items() if k != "PBXDIAG_DB"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "cfg")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    shown = cli("config", "--json")
    assert shown.returncode == 0, shown.stderr
    db = json.loads(shown.stdout)["db"]
    assert db["value"].startswith("postgresql://postgres:***@") and "pw-in-url" not in shown.stdout
    migrated = cli("register", "migrate", "--json")
    assert migrated.returncode == 0, migrated.stderr
    assert json.loads(migrated.stdout)["from"] == 0  # the config's database, created now
    assert "pw-in-url" not in migrated.stdout + migrated.stderr
    (tmp_path / "cfg" / "pbxdiag" / "config.yaml").write_text(
        f"db: x.db\nregister:\n  url: {url}\n")
    both = cli("tickets", "list")
    assert both.returncode == 2 and "keep one" in both.stderr
    assert "pw-in-url" not in both.stderr
