"""A long-running process (a worker, the SMDR monitor) outlives a lost register connection.

The server ends the connection (as a restart or a failover does): the change in flight
fails as ``RegisterUnreachable`` and is not half-made, and the next one reconnects.
"""

from __future__ import annotations

import psycopg
import pytest

from agent.tickets.register import Register
from agent.tickets.storage.postgres import RegisterUnreachable
from tests.dbservers import PostgresServer, fresh_database
from tests.tickets.conftest import classification, record


def test_a_register_reconnects_after_its_connection_is_lost(
        postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server, prefix="reconnect")
    with Register(url) as register:
        first = record(register, run_id="run-1")
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE application_name = 'pbxdiag' AND pid <> pg_backend_pid()")
        with pytest.raises(RegisterUnreachable):
            record(register, c=classification(signature="sig-b"), run_id="run-2")
        again = record(register, c=classification(signature="sig-b"), run_id="run-3")
        assert again.ticket.ref != first.ticket.ref
        assert [t.last_run_id for t in register.list_tickets()] == ["run-1", "run-3"]
