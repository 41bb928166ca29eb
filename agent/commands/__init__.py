"""``pbxdiag`` sub-commands: one module per group, each with ``register(subparsers)``.

Adding a command group means adding a module here and naming it in ``GROUPS``; the
modules import their heavy dependencies lazily so ``pbxdiag --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agent.paths import default_data_dir

GROUPS = ("demo", "run", "fleet", "schedule", "tickets", "simulate", "playbook", "inventory",
          "sites", "config", "smdr", "completion", "help", "serve", "users")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None,
                        help="ticket register (SQLite); default: $PBXDIAG_DB, db: in "
                             "config.yaml, or XDG data dir/tickets.db")


def add_inventory_option(parser: argparse.ArgumentParser, *, required: bool = True,
                         help: str = "the inventory YAML file") -> None:
    """``--inventory``, defaulting to ``$PBXDIAG_INVENTORY`` or the config file's."""
    parser.add_argument("--inventory", type=Path, default=None,
                        help=f"{help} (default: $PBXDIAG_INVENTORY or inventory: in "
                             "config.yaml)")
    if required:
        parser.set_defaults(inventory_required=True)


def db_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_data_dir() / "tickets.db"
