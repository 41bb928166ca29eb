"""``pbxdiag register``: the register's database itself — its schema and moving it.

``register migrate`` brings a register's schema up to date (any open does too; this says
from which version to which, for a desk upgrading on purpose, e.g. before starting
workers). ``register copy --from LOC --to LOC`` copies a whole register into an empty one
(SQLite → PostgreSQL for a desk moving up): ids and counters kept, so no fault reference
is reused. Exit 0 done, 2 bad input (an unusable location, a target that is not empty,
a server that cannot be reached — the location is the desk's own configuration).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from agent.commands import add_db_option, db_path
from agent.errors import EXIT_OK
from agent.tickets.storage.location import parse_location


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "register", help="the ticket register's database: migrate its schema, copy it",
        description="Manage the register's database (a SQLite file or PostgreSQL).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    migrate = actions.add_parser(
        "migrate", help="bring the register's schema up to date and say from which version",
        description="Create or upgrade the register's schema (every open does this too); "
                    "prints the version found and the version now.")
    add_db_option(migrate)
    migrate.add_argument("--json", action="store_true", help="print JSON")
    migrate.set_defaults(handler=_migrate)

    copy = actions.add_parser(
        "copy", help="copy every table of one register into an empty one",
        description="Copy a whole register (tickets, occurrences, audit, outbox, counters, "
                    "runs, SMDR records, windows) into an empty register, ids and counters "
                    "kept, in one transaction on the target. Stop the writers first.")
    copy.add_argument("--from", dest="source", required=True, metavar="LOCATION",
                      help="the register to copy: a path, sqlite:PATH or postgresql://…")
    copy.add_argument("--to", dest="target", required=True, metavar="LOCATION",
                      help="the empty register to fill: a path, sqlite:PATH or "
                           "postgresql://…")
    copy.add_argument("--json", action="store_true", help="print JSON")
    copy.set_defaults(handler=_copy)


def _migrate(args: argparse.Namespace) -> int:
    from agent.tickets.storage.backends import store_for
    from agent.tickets.storage.location import describe

    location = db_path(args)
    store = store_for(location)
    store.open()
    try:
        found, now = store.migrated_from or 0, store.schema_version
    finally:
        store.close()
    if args.json:
        print(json.dumps({"register": describe(location), "from": found, "to": now}))
    elif found == now:
        print(f"{describe(location)}: schema version {now}, up to date")
    else:
        print(f"{describe(location)}: schema version {found} -> {now}")
    return EXIT_OK


def _copy(args: argparse.Namespace) -> int:
    from agent.tickets.storage.copy import copy_register

    report = copy_register(parse_location(args.source), parse_location(args.target))
    if args.json:
        print(json.dumps({"from": report.source, "to": report.target,
                          "schema_version": report.schema_version, "rows": report.rows}))
        return EXIT_OK
    print(f"copied {report.source} -> {report.target} (schema version {report.schema_version})")
    width = max(len(name) for name in report.rows)
    for name, count in report.rows.items():
        print(f"  {name:<{width}}  {count}")
    return EXIT_OK
