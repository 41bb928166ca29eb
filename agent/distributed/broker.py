"""The Celery app both sides build from ``--broker``: queues per pool, late acks, limits.

Why these settings (docs/scale.md):

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a job is acknowledged only when it
  has run, so a worker killed mid-run leaves it on the broker and another worker runs it
  again under the same run id (filing is idempotent by run id).
- ``worker_prefetch_multiplier = 1``: a worker holds no more jobs than it runs, so a dead
  worker strands only what it was running, and a busy one never hoards another's work.
- a hard ``task_time_limit`` per job, and Redis's ``visibility_timeout`` above it: Redis
  redelivers an unacknowledged message after the visibility timeout, so it must be longer
  than any live job may run, or a job still running would be delivered twice.
- no result backend: results go to the register (the runs table), which the submitter
  reads; the broker carries only small messages.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from agent.errors import InputError
from agent.tickets.storage.location import redacted

SCHEMES: Final = ("redis", "rediss", "amqp", "amqps", "pyamqp")
MAX_URL_LENGTH: Final = 2048
#: The default hard limit of one job: a site's reach (180 s) plus a long playbook.
DEFAULT_JOB_TIME_LIMIT: Final = 1800.0
#: How much longer than the hard limit Redis waits before redelivering a message: a tenth
#: of it, at least 10 s (the time between a job's delivery and its start, and clock slack).
MIN_VISIBILITY_MARGIN: Final = 10.0
TASK_NAME: Final = "pbxdiag.run_site"
QUEUE_PREFIX: Final = "pbxdiag."


def check_broker(url: str | None) -> str:
    """``--broker``'s value, or bad input naming the option (exit 2, nothing sent)."""
    if not url:
        raise InputError("--broker is required with --executor celery "
                         "(redis://host:6379/0 or amqp://user@host//)")
    if len(url) > MAX_URL_LENGTH:
        raise InputError(f"--broker: the URL is over {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise InputError(f"--broker {redacted(url)}: not a URL ({err})") from None
    if parts.scheme not in SCHEMES:
        raise InputError(f"--broker {redacted(url)}: unknown scheme {parts.scheme!r}; use "
                         "redis://, rediss://, amqp:// or amqps://")
    if not parts.hostname:
        raise InputError(f"--broker {redacted(url)}: name the broker's host")
    if parts.scheme.startswith("redis") and parts.path.strip("/") and \
            not parts.path.strip("/").isdigit():
        raise InputError(f"--broker {redacted(url)}: a Redis database is a number "
                         f"(redis://host:{port or 6379}/0)")
    return url


def queue_for(pool: str) -> str:
    return f"{QUEUE_PREFIX}{pool}"


def visibility_timeout(job_time_limit: float) -> float:
    """Redis redelivers after this: above the hard limit, so a live job never twice."""
    return job_time_limit + max(MIN_VISIBILITY_MARGIN, job_time_limit / 10)


def celery_app(broker: str, *, job_time_limit: float = DEFAULT_JOB_TIME_LIMIT) -> Any:
    """The app of submitters and workers alike (celery is imported only here, lazily)."""
    from celery import Celery

    visibility = visibility_timeout(job_time_limit)
    app = Celery("pbxdiag", broker=check_broker(broker))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_time_limit=job_time_limit,
        task_soft_time_limit=max(1.0, job_time_limit - 10.0),
        task_ignore_result=True,
        task_default_queue=queue_for("default"),
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=10,
        worker_hijack_root_logger=False,
        broker_transport_options={
            "visibility_timeout": visibility,
            # Sweep for the messages of a dead worker often enough to matter.
            "unacked_restore_interval": max(1, min(10, int(visibility // 20))),
            "unacked_restore_throttle": 1,
            "socket_timeout": 30,
            "socket_connect_timeout": 10,
        },
    )
    return app


def reachable(app: Any, *, timeout: float = 10.0) -> None:
    """Connect once before anything is sent: a broker that does not answer is the
    ``--broker`` option's problem (exit 2), found before any job is queued."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as err:
        raise InputError(f"--broker {redacted(str(app.conf.broker_url))}: the broker does not "
                         f"answer ({type(err).__name__})") from None
