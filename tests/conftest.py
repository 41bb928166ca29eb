"""Session-wide real servers (tests/dbservers.py): started on first use, once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dbservers import PostgresServer, RedisServer, running_postgres, running_redis


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server
