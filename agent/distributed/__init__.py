"""Fleets beyond one machine: the same (site, playbook) jobs on Celery (docs/scale.md).

``broker`` builds the Celery app (one queue per pool, acks_late, hard time limits and the
visibility timeout derived from them), ``job`` is the message (ids and options, never a
credential), ``locks`` the per-line locks held in the register's database (or by flock on
one host), ``work`` what a worker does with one job, ``worker`` the ``pbxdiag worker``
process and ``submit`` the ``pbxdiag fleet --executor celery`` side.
"""
