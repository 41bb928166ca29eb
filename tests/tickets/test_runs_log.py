"""The runs table: a row from a run's start, completed at its end; stale rows not running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.tickets.storage.runs import STALE_AFTER, RunLog

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_started_then_finished_and_what_is_in_progress(db: Path | str, tmp_path: Path) -> None:
    with RunLog(db) as log:
        log.started(run_id="r1", site_id="a", playbook="Health check", at=T0, fleet_id="f1")
        log.started(run_id="r2", site_id="b", playbook="Health check", at=T0, fleet_id="f1")
        log.started(run_id="r1", site_id="a", playbook="again", at=T0)  # once per run id
        log.finished(run_id="r1", at=T0 + timedelta(seconds=30), status="passed",
                     exit_code=0, path="ssh://pbx")
        assert [r.run_id for r in log.in_progress(now=T0 + timedelta(minutes=1))] == ["r2"]
        assert log.in_progress(now=T0 + STALE_AFTER + timedelta(minutes=1)) == []  # killed
        (first,) = log.recent(since=T0 - timedelta(days=1), site_id="a")
        assert (first.playbook, first.status, first.exit_code, first.path, first.fleet_id) == (
            "Health check", "passed", 0, "ssh://pbx", "f1")
        assert first.finished_at == T0 + timedelta(seconds=30)
