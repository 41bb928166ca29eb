"""A job Celery kills at its hard time limit ends on the board, and files nothing.

Celery sends ``task_failure`` (with ``TimeLimitExceeded``) in the worker's parent process
after it has killed the child. The signal is sent here as Celery sends it, to the app a
real ``pbxdiag worker`` builds, over a real register file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from billiard.exceptions import TimeLimitExceeded
from celery import signals

from agent.distributed.broker import TASK_NAME
from agent.distributed.job import JobSpec
from agent.distributed.work import WorkerSettings
from agent.distributed.worker import worker_app
from agent.errors import EXIT_INTERNAL
from agent.tickets.register import Register
from agent.tickets.storage.runs import RunLog


def test_a_job_killed_at_its_hard_limit_ends_as_our_failure(tmp_path: Path) -> None:
    db = tmp_path / "tickets.db"
    settings = WorkerSettings(inventory=tmp_path / "inventory.yaml", register=db,
                              output=tmp_path / "out", name="w1")
    app = worker_app("redis://127.0.0.1:1/0", settings, job_time_limit=30)
    spec = JobSpec(site_id="acme", playbook="/x/health-check.yaml", playbook_sha256="0" * 64,
                   run_id="run-killed", fleet_id="fleet-1")
    with RunLog(db) as runs:
        runs.started(run_id=spec.run_id, site_id="acme", playbook="health-check",
                     at=datetime.now(UTC), fleet_id="fleet-1")
    task = app.tasks[TASK_NAME]
    signals.task_failure.send(sender=task, task_id="t1", exception=RuntimeError("other"),
                              args=(), kwargs=spec.to_json(), einfo=None)
    with RunLog(db) as runs:
        assert runs.of_fleet("fleet-1")[0].finished_at is None  # only the hard limit counts

    signals.task_failure.send(sender=task, task_id="t1", exception=TimeLimitExceeded(30),
                              args=(), kwargs=spec.to_json(), einfo=None)
    with RunLog(db) as runs:
        (row,) = runs.of_fleet("fleet-1")
    assert row.finished_at is not None
    assert (row.status, row.exit_code, row.ticket) == ("internal-error", EXIT_INTERNAL, None)
    with Register(db) as register:
        assert register.list_tickets() == []
