"""Sites, contracts and credential references, read from a hand-written YAML file.

Passwords are never written in the inventory: a site names an environment variable or a
file (mode 0600) that holds it, and the value becomes a ``Secret`` the moment it is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent import yamlsource
from agent.errors import InventoryError
from agent.line.secrets import SecretRef
from agent.line.transports.base import Credentials

_NAME = {"type": "string", "minLength": 1}
_CALENDAR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "timezone": _NAME,
        "nation": {"enum": ["england", "scotland", "wales", "northern_ireland"]},
        "working_days": {"type": "array", "items": {"enum": ["mon", "tue", "wed", "thu", "fri",
                                                             "sat", "sun"]}},
        "start": {"type": "string", "pattern": r"^\d\d:\d\d$"},
        "end": {"type": "string", "pattern": r"^\d\d:\d\d$"},
        "extra_holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
    },
}
_CONTRACT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "major_response_hours": {"type": "number", "exclusiveMinimum": 0},
        "minor_response_working_hours": {"type": "number", "exclusiveMinimum": 0},
        "parts_working_hours": {"type": "number", "exclusiveMinimum": 0},
        "escalation_working_hours": {"type": "array", "items": {"type": "number"}},
        "remote_access_minutes": {"type": "number", "exclusiveMinimum": 0},
        "calendar": _CALENDAR,
    },
}
_CREDENTIALS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "username": _NAME,
        "password_env": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
        "password_file": _NAME,
    },
}
_SITE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["customer", "vendor", "paths"],
    "properties": {
        "customer": _NAME,
        "name": _NAME,
        "vendor": _NAME,
        "model": _NAME,
        "contract": _NAME,
        "paths": {"type": "array", "minItems": 1,
                  "items": {"type": "string", "pattern": r"^[a-z0-9]+://"}},
        "known_hosts": _NAME,
        "credentials": _CREDENTIALS,
        "timeout": {"type": "number", "exclusiveMinimum": 0},
    },
}
_ENV_NAME = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}
_ADDRESSES = {"type": "array", "minItems": 1,
              "items": {"type": "string", "pattern": r"^[^@\s<>]+@[^@\s<>]+$"}}
_ESCALATE_TO = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"account_manager": _ADDRESSES, "technical_director": _ADDRESSES},
}
_NOTIFICATIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": {
            "type": "object",
            "additionalProperties": False,
            "required": ["host", "from", "to"],
            "properties": {
                "host": _NAME,
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "starttls": {"type": "boolean"},
                "ssl": {"type": "boolean"},
                "username": _NAME,
                "password_env": _ENV_NAME,
                "password_file": _NAME,
                "ca_file": _NAME,
                "from": {"type": "string", "pattern": r"@"},
                "to": _ADDRESSES,
                "timeout": {"type": "number", "exclusiveMinimum": 0},
            },
        },
        "webhook": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "pattern": r"^https?://"},
                "secret_env": _ENV_NAME,
                "secret_file": _NAME,
                "timeout": {"type": "number", "exclusiveMinimum": 0},
            },
        },
        "escalate_to": _ESCALATE_TO,
        "contracts": {"type": "object", "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"to": _ADDRESSES, "escalate_to": _ESCALATE_TO},
        }},
        "retry": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "first_delay_minutes": {"type": "number", "exclusiveMinimum": 0},
                "max_delay_minutes": {"type": "number", "exclusiveMinimum": 0},
                "max_attempts": {"type": "integer", "minimum": 1},
            },
        },
    },
}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pbxdiag inventory",
    "type": "object",
    "additionalProperties": False,
    "required": ["sites"],
    "properties": {
        "contracts": {"type": "object", "additionalProperties": _CONTRACT},
        "sites": {"type": "object", "minProperties": 1, "additionalProperties": _SITE},
        # Where ticket notifications go (agent/tickets/settings.py, channels/; docs/tickets.md).
        "notifications": _NOTIFICATIONS,
    },
}


@dataclass(frozen=True, slots=True)
class CredentialRef:
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None

    def resolve(self) -> Credentials:
        """Read the password now (at connect time), as a ``Secret``."""
        return Credentials(self.username, self.password.resolve(InventoryError))

    @property
    def password(self) -> SecretRef:
        """Where the site's password lives (agent.line.secrets reads it)."""
        return SecretRef("the site's password", self.password_env, self.password_file)


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    customer: str
    name: str
    vendor: str
    paths: tuple[str, ...]
    model: str | None = None
    contract: str = "standard"
    contract_terms: dict[str, Any] = field(default_factory=dict)
    credentials: CredentialRef = field(default_factory=CredentialRef)
    known_hosts: Path | None = None
    timeout: float = 15.0

    @property
    def title(self) -> str:
        return f"{self.customer}, {self.name}" if self.name else self.customer


@dataclass(frozen=True, slots=True)
class Inventory:
    path: Path
    sites: dict[str, Site]
    #: The validated ``notifications:`` section as written (secrets as references only).
    notifications: dict[str, Any] = field(default_factory=dict)

    def site(self, site_id: str) -> Site:
        try:
            return self.sites[site_id]
        except KeyError:
            known = ", ".join(sorted(self.sites))
            raise InventoryError(f"no site {site_id!r} in the inventory (sites: {known})",
                                 path=str(self.path)) from None


def load_inventory(path: Path) -> Inventory:
    source = yamlsource.load(path, InventoryError)
    yamlsource.validate(source, SCHEMA, InventoryError)
    contracts: dict[str, dict[str, Any]] = source.data.get("contracts") or {}
    sites = {site_id: _site(source, site_id, raw, contracts, path.parent)
             for site_id, raw in source.data["sites"].items()}
    notifications = _notifications(source, contracts)
    return Inventory(path=path, sites=sites, notifications=notifications)


def _notifications(source: yamlsource.YamlSource,
                   contracts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Checks the schema cannot say: one secret source each, known contract names."""
    raw: dict[str, Any] = source.data.get("notifications") or {}
    pairs = (("email", "password_env", "password_file"), ("webhook", "secret_env", "secret_file"))
    for section, env_key, file_key in pairs:
        if env_key in raw.get(section, {}) and file_key in raw.get(section, {}):
            raise source.error(InventoryError, f"give {env_key} or {file_key}, not both",
                               ("notifications", section))
    if raw.get("email", {}).get("ssl") and raw.get("email", {}).get("starttls"):
        raise source.error(InventoryError, "give ssl (implicit TLS) or starttls, not both",
                           ("notifications", "email"))
    for name in raw.get("contracts", {}):
        if name not in contracts and name != "standard":
            raise source.error(InventoryError, f"notifications name unknown contract {name!r}",
                               ("notifications", "contracts", name), key=True)
    return dict(raw)


def _site(source: yamlsource.YamlSource, site_id: str, raw: dict[str, Any],
          contracts: dict[str, dict[str, Any]], base: Path) -> Site:
    contract = raw.get("contract", "standard")
    if contract not in contracts and contract != "standard":
        raise source.error(InventoryError, f"site {site_id!r} names unknown contract "
                           f"{contract!r} (defined: {', '.join(sorted(contracts)) or 'none'})",
                           ("sites", site_id, "contract"))
    creds = raw.get("credentials") or {}
    if "password_env" in creds and "password_file" in creds:
        raise source.error(InventoryError, "give password_env or password_file, not both",
                           ("sites", site_id, "credentials"))
    return Site(
        id=site_id,
        customer=raw["customer"],
        name=raw.get("name", ""),
        vendor=raw["vendor"],
        model=raw.get("model"),
        paths=tuple(raw["paths"]),
        contract=contract,
        contract_terms=dict(contracts.get(contract, {})),
        credentials=CredentialRef(
            username=creds.get("username"),
            password_env=creds.get("password_env"),
            password_file=_relative(base, creds.get("password_file")),
        ),
        known_hosts=_relative(base, raw.get("known_hosts")),
        timeout=float(raw.get("timeout", 15.0)),
    )


def _relative(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
