"""Defaults a user sets once instead of on every command: the inventory and the register.

Precedence, highest first: the command line; the environment (``PBXDIAG_INVENTORY``,
``PBXDIAG_DB``); ``$XDG_CONFIG_HOME/pbxdiag/config.yaml`` (``inventory:`` and ``db:``,
relative paths taken from the file's folder; ``register: {url: postgresql://…}`` names
the register as a URL, the same as ``db:``); the built-in default (the register in the
XDG data dir; no inventory). ``pbxdiag config`` shows what is in force and from where.
The register may be a SQLite path or a PostgreSQL URL everywhere
(``agent.tickets.storage.location``): its password is never shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import yamlsource
from agent.errors import InputError
from agent.paths import default_data_dir
from agent.tickets.storage.location import PostgresUrl, parse_location

KEYS = ("inventory", "db")
ENVIRONMENT = {"inventory": "PBXDIAG_INVENTORY", "db": "PBXDIAG_DB"}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "inventory": {"type": "string", "minLength": 1,
                      "description": "the inventory used when --inventory is not given"},
        "db": {"type": "string", "minLength": 1,
               "description": "the ticket register used when --db is not given"},
        "register": {"type": "object", "additionalProperties": False, "required": ["url"],
                     "properties": {"url": {"type": "string", "minLength": 1,
                                            "description": "the register's location: a "
                                            "path, sqlite:PATH or postgresql://…"}}},
    },
}


class ConfigError(InputError):
    """The config file does not parse or validate."""


@dataclass(frozen=True, slots=True)
class Setting:
    value: Path | PostgresUrl | None
    source: str  # "command line", "environment PBXDIAG_DB", "config FILE", "default"


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pbxdiag" / "config.yaml"


def _from_file(path: Path) -> dict[str, Path | PostgresUrl]:
    if not path.exists():
        return {}
    source = yamlsource.load(path, ConfigError)
    yamlsource.validate(source, SCHEMA, ConfigError)
    data = dict(source.data) if isinstance(source.data, dict) else {}
    if "register" in data:
        if "db" in data:
            raise ConfigError("db: and register: both name the register: keep one",
                              path=str(path))
        data["db"] = data.pop("register")["url"]
    return {key: _relative(path.parent, str(value), register=key == "db")
            for key, value in data.items()}


def _relative(base: Path, value: str, *, register: bool = False) -> Path | PostgresUrl:
    location = parse_location(value) if register else Path(value)
    if isinstance(location, PostgresUrl):
        return location
    path = location.expanduser()
    return path if path.is_absolute() else base / path


def resolve(key: str, given: str | Path | PostgresUrl | None) -> Setting:
    """One setting and where it came from (the register's as a location)."""
    if given is not None:
        return Setting(_given(key, given), "command line")
    variable = ENVIRONMENT[key]
    if os.environ.get(variable):
        return Setting(_given(key, os.environ[variable]), f"environment {variable}")
    path = config_file()
    in_file = _from_file(path)
    if key in in_file:
        return Setting(in_file[key], f"config {path}")
    if key == "db":
        return Setting(default_data_dir() / "tickets.db", "default")
    return Setting(None, "not set")


def _given(key: str, value: str | Path | PostgresUrl) -> Path | PostgresUrl:
    if isinstance(value, PostgresUrl):
        return value
    location = parse_location(str(value)) if key == "db" else Path(value)
    return location if isinstance(location, PostgresUrl) else location.expanduser()


def apply_defaults(args: Any) -> None:
    """Fill ``args.inventory`` / ``args.db`` left unset on the command line; a command
    that needs an inventory and has none from anywhere is bad input."""
    for key in KEYS:
        if hasattr(args, key):
            setattr(args, key, resolve(key, getattr(args, key)).value)
    if getattr(args, "inventory_required", False) and args.inventory is None:
        raise InputError("--inventory is required (or set PBXDIAG_INVENTORY, or inventory: "
                         f"in {config_file()})")
