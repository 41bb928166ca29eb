"""``pbxdiag worker``: a Celery worker running the jobs of one or more pools.

The pool is prefork (processes), not threads: Celery enforces a *hard* per-job time limit
only in the prefork pool (it kills the child), and that limit is what the Redis
visibility timeout is derived from — with threads a hung job could outlive the
visibility timeout and be delivered twice. A child that dies mid-job (killed, out of
memory) is a lost worker: with ``task_reject_on_worker_lost`` its job goes back to the
queue, and the parent starts a new child. Each child opens its own register connections
per job, after the fork.
"""

from __future__ import annotations

from typing import Any

import structlog

from agent.distributed.broker import (
    DEFAULT_JOB_TIME_LIMIT,
    TASK_NAME,
    celery_app,
    queue_for,
)
from agent.distributed.job import JobSpec
from agent.distributed.work import WorkerSettings, finish_outlived, run_job

log = structlog.get_logger(__name__)


def send(app: Any, spec: JobSpec, pool: str) -> None:
    """Queue one job on ``pool``'s queue (the submitter and a worker moving a job on)."""
    app.send_task(TASK_NAME, kwargs=spec.to_json(), queue=queue_for(pool))


def worker_app(broker: str, settings: WorkerSettings, *,
               job_time_limit: float = DEFAULT_JOB_TIME_LIMIT) -> Any:
    """The app with the job task bound to this worker's own files."""
    from billiard.exceptions import TimeLimitExceeded
    from celery import signals

    app = celery_app(broker, job_time_limit=job_time_limit)

    @app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def run_site_task(**message: Any) -> str:
        spec = JobSpec.from_json(message)
        outcome = run_job(spec, settings, lambda moved, pool: send(app, moved, pool))
        log.info("job done", site=spec.site_id, run_id=spec.run_id, outcome=outcome)
        return outcome

    def outlived(sender: Any = None, exception: BaseException | None = None,
                 kwargs: dict[str, Any] | None = None, **_: Any) -> None:
        # Sent in the worker's parent process when a child is killed at the hard limit
        # (every other failure is caught and recorded inside run_job).
        if isinstance(exception, TimeLimitExceeded) and kwargs is not None:
            finish_outlived(kwargs, settings)

    signals.task_failure.connect(outlived, sender=run_site_task, weak=False)
    return app


def run_worker(broker: str, pools: list[str], *, concurrency: int, settings: WorkerSettings,
               job_time_limit: float = DEFAULT_JOB_TIME_LIMIT) -> int:
    """Serve ``pools`` until stopped (SIGTERM: finish the running jobs, then exit)."""
    app = worker_app(broker, settings, job_time_limit=job_time_limit)
    app.worker_main(["worker", "--queues", ",".join(queue_for(p) for p in pools),
                     "--concurrency", str(concurrency), "--pool", "prefork",
                     "--hostname", f"{settings.name}@%h", "--loglevel", "WARNING",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])
    return 0
