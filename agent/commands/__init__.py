"""``pbxdiag`` sub-commands: one module per group, each with ``register(subparsers)``.

Adding a command group means adding a module here and naming it in ``GROUPS``; the
modules import their heavy dependencies lazily so ``pbxdiag --help`` stays fast.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from agent.paths import SHIPPED_PLAYBOOKS, default_data_dir
from agent.tickets.storage.location import PostgresUrl, RegisterLocation, parse_location

GROUPS = ("demo", "run", "console", "fleet", "schedule", "tickets", "simulate", "playbook",
          "inventory", "sites", "config", "smdr", "backups", "pack", "serve", "users",
          "worker", "register", "completion", "help")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="LOCATION",
                        help="ticket register: a SQLite file (PATH or sqlite:PATH) or "
                             "postgresql://user@host/db; default: $PBXDIAG_DB, db: or "
                             "register: {url: …} in config.yaml, or XDG data dir/tickets.db")


def add_inventory_option(parser: argparse.ArgumentParser, *, required: bool = True,
                         help: str = "the inventory YAML file") -> None:
    """``--inventory``, defaulting to ``$PBXDIAG_INVENTORY`` or the config file's."""
    parser.add_argument("--inventory", type=Path, default=None,
                        help=f"{help} (default: $PBXDIAG_INVENTORY or inventory: in "
                             "config.yaml)")
    if required:
        parser.set_defaults(inventory_required=True)


def playbook_argument(value: str) -> Path:
    """A playbook file, or a shipped playbook's name: ``health-check`` is
    ``playbooks/health-check.yaml`` when no file of that name is here."""
    given = Path(value)
    if given.exists() or given.suffix in (".yaml", ".yml") or "/" in value:
        return given
    shipped = SHIPPED_PLAYBOOKS / f"{value}.yaml"
    return shipped if shipped.is_file() else given


def who(args: argparse.Namespace) -> str:
    """Who did it, for the audit trail: ``--by``, else the logged-in user."""
    if getattr(args, "by", None):
        return str(args.by)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def db_path(args: argparse.Namespace) -> RegisterLocation:
    """The register in force: ``--db`` (etc., filled in by ``agent.config``) or the default."""
    if args.db is None:
        return default_data_dir() / "tickets.db"
    if isinstance(args.db, (Path, PostgresUrl)):
        return args.db
    return parse_location(str(args.db))
