"""The register's schema as an append-only list of migrations, for both backends.

A SQLite file's ``PRAGMA user_version`` (a PostgreSQL database's ``schema_version``
table) holds how many have run. A released migration is never edited (a register written
by an older pbxdiag must upgrade to exactly what a new one creates). The first nine are
SQLite's own history and never run on PostgreSQL: a new PostgreSQL database is created
from ``agent.tickets.storage.definition``, which always declares the newest schema. Every
migration after the ninth is a portable step (given a ``storage.dialect.Db``: ``?``
placeholders, the SQL both speak) that brings an older database of either kind up; the
change that adds one also declares its result in ``definition`` and moves its version
(a test fails until both agree). The next change is a new function at the end of
``MIGRATIONS``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

from agent.tickets.storage.dialect import Db

Migration = Callable[[Db], None]


def _run(conn: Db, statements: tuple[str, ...]) -> None:
    for statement in statements:
        conn.execute(statement)


def v1_initial(conn: Db) -> None:
    """Tickets, occurrences, audit, and the counters that number fault references."""
    _run(conn, (
        """CREATE TABLE counters (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""",
        """CREATE TABLE tickets (
            ref          TEXT PRIMARY KEY,
            site_id      TEXT NOT NULL,
            customer     TEXT NOT NULL,
            signature    TEXT NOT NULL,
            priority     TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3')),
            title        TEXT NOT NULL,
            fault_class  TEXT NOT NULL,
            rule         TEXT NOT NULL,
            summary      TEXT NOT NULL,
            evidence     TEXT NOT NULL,      -- JSON list of strings
            non_covered  TEXT,
            state        TEXT NOT NULL,
            opened_at    TEXT NOT NULL,
            response_due TEXT NOT NULL,
            parts_due    TEXT,
            escalations  TEXT NOT NULL,      -- JSON list of {level, due}
            contract     TEXT NOT NULL,
            calendar     TEXT NOT NULL,
            first_seen   TEXT NOT NULL,
            last_seen    TEXT NOT NULL,
            occurrences  INTEGER NOT NULL,
            last_run_id  TEXT NOT NULL
        )""",
        # One open ticket per fault per site, enforced by the database too.
        """CREATE UNIQUE INDEX tickets_one_open ON tickets (site_id, signature)
            WHERE state NOT IN ('resolved', 'closed', 'cancelled')""",
        "CREATE INDEX tickets_site ON tickets (site_id, state)",
        """CREATE TABLE occurrences (
            id       INTEGER PRIMARY KEY,
            ref      TEXT NOT NULL REFERENCES tickets (ref),
            run_id   TEXT NOT NULL,
            seen_at  TEXT NOT NULL,
            kind     TEXT NOT NULL CHECK (kind IN ('fault', 'all_clear')),
            priority TEXT CHECK (priority IN ('P1', 'P2', 'P3')),
            UNIQUE (ref, run_id, kind)
        )""",
        """CREATE TABLE audit (
            id     INTEGER PRIMARY KEY,
            ref    TEXT NOT NULL REFERENCES tickets (ref),
            at     TEXT NOT NULL,
            who    TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        )""",
        "CREATE INDEX audit_ref ON audit (ref, id)",
    ))


def v2_lifecycle_escalations_outbox(conn: Db) -> None:
    """Lifecycle facts, flapping, sent escalations, and the notification outbox.

    ``resolved_remotely`` joins the closed states, so the one-open-ticket index is rebuilt.
    The outbox holds one row per notification per channel; ``lease_owner``/``lease_until``
    is the claim that keeps two flushers from sending the same row.
    """
    _run(conn, (
        "ALTER TABLE tickets ADD COLUMN remote_access_due TEXT",
        "ALTER TABLE tickets ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tickets ADD COLUMN flapping_since TEXT",
        "ALTER TABLE tickets ADD COLUMN responded_at TEXT",
        "ALTER TABLE tickets ADD COLUMN resolved_at TEXT",
        """ALTER TABLE tickets ADD COLUMN resolution TEXT
            CHECK (resolution IN ('remote', 'on_site'))""",
        "ALTER TABLE tickets ADD COLUMN visit_date TEXT",
        "ALTER TABLE tickets ADD COLUMN visit_engineer TEXT",
        "ALTER TABLE tickets ADD COLUMN visit_parts TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE tickets ADD COLUMN answers TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE tickets ADD COLUMN transcript TEXT",
        "ALTER TABLE tickets ADD COLUMN excerpt TEXT NOT NULL DEFAULT ''",
        "DROP INDEX tickets_one_open",
        """CREATE UNIQUE INDEX tickets_one_open ON tickets (site_id, signature)
            WHERE state NOT IN ('resolved_remotely', 'resolved', 'closed', 'cancelled')""",
        """CREATE TABLE escalations_sent (
            ref     TEXT NOT NULL REFERENCES tickets (ref),
            level   TEXT NOT NULL,
            due     TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            who     TEXT NOT NULL,
            PRIMARY KEY (ref, level)
        )""",
        """CREATE TABLE outbox (
            id              INTEGER PRIMARY KEY,
            ref             TEXT NOT NULL REFERENCES tickets (ref),
            seq             INTEGER NOT NULL,   -- the ticket's n-th notification
            event           TEXT NOT NULL,
            channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
            payload         TEXT NOT NULL,      -- JSON object
            created_at      TEXT NOT NULL,
            status          TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            lease_owner     TEXT,
            lease_until     TEXT,
            sent_at         TEXT,
            last_error      TEXT,
            UNIQUE (ref, seq, channel)
        )""",
        "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
        "CREATE INDEX outbox_ticket ON outbox (ref, channel, id)",
    ))


def v3_derived_counts_any_channel(conn: Db) -> None:
    """Drop the derived ticket columns; let the outbox hold any channel a module provides.

    ``occurrences``, ``first_seen`` and ``last_seen`` repeated the occurrences table (and
    had to be kept in step by hand): queries compute them now. Channels are modules in
    ``agent/tickets/channels/``, so the outbox no longer lists them in a CHECK; SQLite
    cannot drop a constraint, so the table is rebuilt with its rows and indexes. A ticket
    with no fault occurrence row (only ever written by hand) gets one from the columns
    being dropped, so it keeps its first sighting and run.
    """
    _run(conn, (
        """INSERT INTO occurrences (ref, run_id, seen_at, kind, priority)
            SELECT ref, last_run_id, first_seen, 'fault', priority FROM tickets AS t
            WHERE NOT EXISTS (SELECT 1 FROM occurrences AS o
                              WHERE o.ref = t.ref AND o.kind = 'fault')""",
        "ALTER TABLE tickets DROP COLUMN occurrences",
        "ALTER TABLE tickets DROP COLUMN first_seen",
        "ALTER TABLE tickets DROP COLUMN last_seen",
        """CREATE TABLE outbox_v3 (
            id              INTEGER PRIMARY KEY,
            ref             TEXT NOT NULL REFERENCES tickets (ref),
            seq             INTEGER NOT NULL,   -- the ticket's n-th notification
            event           TEXT NOT NULL,
            channel         TEXT NOT NULL,      -- a module's name in tickets/channels/
            payload         TEXT NOT NULL,      -- JSON object
            created_at      TEXT NOT NULL,
            status          TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            lease_owner     TEXT,
            lease_until     TEXT,
            sent_at         TEXT,
            last_error      TEXT,
            UNIQUE (ref, seq, channel)
        )""",
        "INSERT INTO outbox_v3 SELECT id, ref, seq, event, channel, payload, created_at, status,"
        " attempts, next_attempt_at, lease_owner, lease_until, sent_at, last_error FROM outbox",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_v3 RENAME TO outbox",
        "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
        "CREATE INDEX outbox_ticket ON outbox (ref, channel, id)",
    ))


def v4_fault_identity(conn: Db) -> None:
    """Fault identity (agent/tickets/identity.py): open tickets keyed by what is broken.

    Occurrences record which playbook saw them. Each open ticket's signature — once the
    names of the checks that failed — is recomputed from its stored rule and evidence as
    ``component:…``; a ticket whose evidence does not say enough, or whose component
    another open ticket of the site already has, keeps its old signature, and its audit
    trail says so.
    """
    from datetime import UTC, datetime

    from agent.tickets.identity import recompute, signature
    from agent.tickets.lifecycle import CLOSED_STATES

    conn.execute("ALTER TABLE occurrences ADD COLUMN playbook TEXT")
    now = datetime.now(UTC).isoformat()
    taken: set[tuple[str, str]] = set()
    rows = conn.execute("SELECT ref, site_id, rule, evidence, state FROM tickets "
                        "ORDER BY opened_at, ref").fetchall()
    for ref, site_id, rule, evidence, state in rows:
        if state in CLOSED_STATES:
            continue
        component = recompute(rule, json.loads(evidence or "[]"))
        new = signature(component) if component is not None else None
        if new is None or (site_id, new) in taken:
            why = ("its stored evidence does not say which component" if new is None else
                   "another open ticket of the site has the same component")
            detail = f"identity could not be recomputed ({why}): kept as it was"
        else:
            taken.add((site_id, new))
            conn.execute("UPDATE tickets SET signature = ? WHERE ref = ?", (new, ref))
            detail = f"identity recomputed from the stored evidence: {new}"
        conn.execute("INSERT INTO audit (ref, at, who, action, detail) VALUES (?, ?, ?, ?, ?)",
                     (ref, now, "pbxdiag", "identity_migrated", detail))


def v5_maintenance_windows(conn: Db) -> None:
    """Maintenance windows set from the CLI (agent/maintenance.py), with who set and who
    ended each: that is their audit trail (the ``audit`` table belongs to tickets).

    A window is never deleted: ending one early sets ``ended_at``, so the register can
    always say why a run in the past filed nothing.
    """
    _run(conn, (
        """CREATE TABLE maintenance (
            id        INTEGER PRIMARY KEY,
            site_id   TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at   TEXT NOT NULL,
            reason    TEXT NOT NULL,
            set_by    TEXT NOT NULL,
            set_at    TEXT NOT NULL,
            ended_at  TEXT,
            ended_by  TEXT,
            CHECK (ends_at > starts_at)
        )""",
        "CREATE INDEX maintenance_site ON maintenance (site_id, ends_at)",
    ))


def v6_engineer_actions(conn: Db) -> None:
    """Engineer actions: what the desk must act on that is no customer fault and has no
    SLA clock (a PBX that may be half-programmed). Their notices go through the same
    outbox, so it no longer requires its ``ref`` to be a ticket's; rebuilt with its rows."""
    _run(conn, (
        """CREATE TABLE engineer_actions (
            ref        TEXT PRIMARY KEY,
            site_id    TEXT NOT NULL,
            customer   TEXT NOT NULL,
            run_id     TEXT NOT NULL UNIQUE,
            kind       TEXT NOT NULL,
            detail     TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE outbox_v6 (
            id              INTEGER PRIMARY KEY,
            ref             TEXT NOT NULL,      -- a ticket's or an engineer action's
            seq             INTEGER NOT NULL,
            event           TEXT NOT NULL,
            channel         TEXT NOT NULL,
            payload         TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            status          TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            lease_owner     TEXT,
            lease_until     TEXT,
            sent_at         TEXT,
            last_error      TEXT,
            UNIQUE (ref, seq, channel)
        )""",
        "INSERT INTO outbox_v6 SELECT id, ref, seq, event, channel, payload, created_at, status,"
        " attempts, next_attempt_at, lease_owner, lease_until, sent_at, last_error FROM outbox",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_v6 RENAME TO outbox",
        "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
        "CREATE INDEX outbox_ticket ON outbox (ref, channel, id)",
    ))


def v7_smdr_items(conn: Db) -> None:
    """What ``pbxdiag smdr monitor`` collected: call records and alarm lines per site.

    ``pos`` is the site's committed position — the n-th item stored, never reused — so
    "stored once" is the unique (site, pos) and a restart resumes from the largest.
    ``filed`` says what became of an alarm line (NULL: not yet looked at; a crash between
    storing and filing leaves it NULL and the next start files it). ``smdr_sites`` keeps
    each site's last position (records past their retention are deleted, positions are
    never reused) and connections: whether the monitor ever streamed from it (its own reconnect
    then explains one 510 on the next connection) and which connection that excuse is for.
    """
    _run(conn, (
        """CREATE TABLE smdr_items (
            id         INTEGER PRIMARY KEY,
            site_id    TEXT NOT NULL,
            pos        INTEGER NOT NULL,
            kind       TEXT NOT NULL CHECK (kind IN ('record', 'alarm')),
            at         TEXT,               -- PBX local time as printed (no zone)
            raw        TEXT NOT NULL,
            data       TEXT NOT NULL,      -- JSON: the smdr parse --json record / alarm
            stored_at  TEXT NOT NULL,
            connection INTEGER NOT NULL,
            filed      TEXT,
            UNIQUE (site_id, pos)
        )""",
        "CREATE INDEX smdr_items_at ON smdr_items (site_id, kind, at)",
        "CREATE INDEX smdr_items_unfiled ON smdr_items (site_id, kind, filed)",
        """CREATE TABLE smdr_sites (
            site_id     TEXT PRIMARY KEY,
            connections INTEGER NOT NULL DEFAULT 0,
            position    INTEGER NOT NULL DEFAULT 0,  -- the last pos used (kept when pruned)
            streamed    INTEGER NOT NULL DEFAULT 0,
            excused     INTEGER,           -- the connection whose first 510 is ours
            updated_at  TEXT NOT NULL
        )""",
    ))


def v8_runs(conn: Db) -> None:
    """Every run, from the moment it starts: the board's sites page and the fleet in
    progress (``finished_at`` null) read it; ``agent/tickets/storage/runs.py``."""
    _run(conn, (
        """CREATE TABLE runs (
            run_id      TEXT PRIMARY KEY,
            site_id     TEXT NOT NULL,
            playbook    TEXT NOT NULL,
            fleet_id    TEXT,
            started_at  TEXT NOT NULL,
            finished_at TEXT,
            status      TEXT,
            exit_code   INTEGER,
            path        TEXT
        )""",
        "CREATE INDEX runs_site ON runs (site_id, started_at)",
        "CREATE INDEX runs_open ON runs (finished_at)",
    ))


def v9_smdr_signals(conn: Db) -> None:
    """The SMDR monitor's signals (silent link, no outgoing calls) and the confirming run
    each started. Unique per (site, signal, window): a signal that stays true is claimed
    once, so at most one confirming run is started for it, across restarts too.
    ``run_id`` is NULL until the run is recorded (a crash in between leaves the claim,
    and no second run for that window)."""
    _run(conn, (
        """CREATE TABLE smdr_signals (
            id          INTEGER PRIMARY KEY,
            site_id     TEXT NOT NULL,
            signal      TEXT NOT NULL,
            window_start TEXT NOT NULL,    -- when the quiet began (ISO, UTC)
            detected_at TEXT NOT NULL,
            detail      TEXT NOT NULL,     -- JSON: the numbers behind the signal
            run_id      TEXT,
            outcome     TEXT,              -- what the confirming run found / why none ran
            UNIQUE (site_id, signal, window_start)
        )""",
    ))


#: Append only.
MIGRATIONS: Final[tuple[Migration, ...]] = (v1_initial, v2_lifecycle_escalations_outbox,
                                            v3_derived_counts_any_channel, v4_fault_identity,
                                            v5_maintenance_windows, v6_engineer_actions,
                                            v7_smdr_items, v8_runs, v9_smdr_signals)
SCHEMA_VERSION: Final = len(MIGRATIONS)
