"""Where the register lives: a SQLite file (the embedded default) or a PostgreSQL URL.

``--db``, ``$PBXDIAG_DB``, ``db:`` and ``register: {url: …}`` in config.yaml all name the
register the same way: a path (or ``sqlite:PATH``) is a SQLite file, and
``postgresql://user@host/db`` (or ``postgres://``) is a PostgreSQL database. The URL may
carry a password, so it is never printed as given: ``str()`` and ``repr()`` of a
``PostgresUrl`` hide it, and everything that logs or reports a register prints that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from agent.errors import InputError
from agent.line.secrets import MIN_SECRET_LEN, REDACTOR

POSTGRES_SCHEMES: Final = ("postgresql", "postgres")
MAX_URL_LENGTH: Final = 2048


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    """A PostgreSQL register; ``dsn`` (with its secret) is only ever given to psycopg."""

    dsn: str = field(repr=False)

    def __post_init__(self) -> None:
        # The process-wide redactor masks it in logs, transcripts and crash reports too,
        # in case a driver's error text or a traceback ever quotes the URL.
        for secret in url_passwords(self.dsn):
            if len(secret) >= MIN_SECRET_LEN:
                REDACTOR.add(secret)

    def __str__(self) -> str:
        return redacted(self.dsn)

    def __repr__(self) -> str:
        return f"PostgresUrl({redacted(self.dsn)!r})"


#: A register: a SQLite file or a PostgreSQL database.
RegisterLocation = Path | PostgresUrl


def parse_location(text: str | Path) -> RegisterLocation:
    """``--db``'s value as a register location; an unusable one is bad input."""
    if isinstance(text, Path):
        return text
    value = text.strip()
    if not value:
        raise InputError("--db: the register's location is empty")
    if len(value) > MAX_URL_LENGTH:
        raise InputError(f"--db: the register's location is over {MAX_URL_LENGTH} characters")
    scheme, _, rest = value.partition(":")
    if scheme.lower() in POSTGRES_SCHEMES and rest.startswith("//"):
        parts = urlsplit(value)
        if not parts.path.strip("/"):
            raise InputError(f"--db {redacted(value)}: name the database "
                             "(postgresql://user@host/DATABASE)")
        return PostgresUrl(value)
    if scheme.lower() == "sqlite" and rest:
        return Path(rest.removeprefix("//"))
    if "://" in value:
        raise InputError(f"--db {redacted(value)}: unknown register scheme {scheme!r}; "
                         "use a file path, sqlite:PATH or postgresql://user@host/db")
    return Path(value)


def url_passwords(url: str) -> list[str]:
    """The passwords a URL carries (user:PASSWORD@ or ?password=), as written and decoded."""
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
    except ValueError:
        return []
    found += [value for key, value in parse_qsl(parts.query) if key.lower() == "password"]
    return sorted({*found, *(unquote(value) for value in found)} - {""})


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    query = "&".join("password=***" if item.lower().startswith("password=") else item
                     for item in parts.query.split("&")) if parts.query else ""
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def describe(location: RegisterLocation) -> str:
    """How a register is named in messages and reports (never with its password)."""
    return str(location)
