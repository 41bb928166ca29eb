"""``pbxdiag`` sub-commands: one module per group, each with ``register(subparsers)``.

Adding a command group means adding a module here and naming it in ``GROUPS``; the
modules import their heavy dependencies lazily so ``pbxdiag --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agent.paths import default_data_dir

GROUPS = ("demo", "run", "fleet", "schedule", "tickets", "simulate", "playbook", "inventory",
          "sites")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None,
                        help="ticket register (SQLite); default: XDG data dir/tickets.db")


def db_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_data_dir() / "tickets.db"
