"""Sites, contracts and credential references, read from a hand-written YAML file.

Passwords are never written in the inventory: a site names an environment variable or a
file (mode 0600) that holds it, and the value becomes a ``Secret`` the moment it is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from agent import yamlsource
from agent.errors import InputError, InventoryError
from agent.line.secrets import SecretRef
from agent.line.transports.base import Credentials
from agent.maintenance import SCHEMA as MAINTENANCE_SCHEMA
from agent.maintenance import Window as MaintenanceWindow
from agent.maintenance import from_inventory as maintenance_windows
from agent.maintenance import normalise as normalise_times
from agent.smdr import settings as smdr_settings
from drivers.smdr import (
    DATE_ORDERS,
    LAYOUT_ALIASES,
    TIME_FORMATS,
    DateOrder,
    SmdrOptions,
    TimeFormat,
    pin_problem,
)

_NAME = {"type": "string", "minLength": 1}
_CALENDAR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "timezone": {**_NAME, "default": "Europe/London", "examples": ["Europe/London"],
                     "description": "IANA time zone of the working hours"},
        "nation": {"enum": ["england", "scotland", "wales", "northern_ireland"],
                   "default": "england",
                   "description": "UK nation whose bank holidays are not working days"},
        "working_days": {"type": "array", "items": {"enum": ["mon", "tue", "wed", "thu", "fri",
                                                             "sat", "sun"]},
                         "default": ["mon", "tue", "wed", "thu", "fri"],
                         "description": "days with working hours"},
        "start": {"type": "string", "pattern": r"^\d\d:\d\d$", "default": "09:00",
                  "description": "start of the working day (HH:MM)"},
        "end": {"type": "string", "pattern": r"^\d\d:\d\d$", "default": "17:30",
                "description": "end of the working day (HH:MM)"},
        "extra_holidays": {"type": "array", "items": {"type": "string", "format": "date"},
                           "default": [], "examples": [["2026-12-24"]],
                           "description": "more days off (ISO dates), e.g. a site's shutdown"},
    },
}
_CONTRACT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "major_response_hours": {"type": "number", "exclusiveMinimum": 0, "default": 4,
                                 "description": "Major fault: time to site, clock hours"},
        "minor_response_working_hours": {"type": "number", "exclusiveMinimum": 0,
                                         "default": 8,
                                         "description": "Minor fault: response, working "
                                                        "hours (next working day)"},
        "parts_working_hours": {"type": "number", "exclusiveMinimum": 0, "default": 8,
                                "description": "Major fault: parts on site, working hours"},
        "escalation_working_hours": {"type": "array", "items": {"type": "number"},
                                     "default": [4, 8],
                                     "description": "account manager, then technical "
                                                    "director, after these working hours"},
        "remote_access_minutes": {"type": "number", "exclusiveMinimum": 0, "default": 45,
                                  "description": "remote access offered within"},
        "calendar": {**_CALENDAR, "description": "the contract's working hours"},
        "smdr_retention_days": {"type": "integer", "minimum": 1, "maximum": 3650,
                                "description": "days the SMDR monitor keeps its sites' call "
                                               "records (their smdr_link.retention_days "
                                               "default; smdr.md)"},
    },
}
_CREDENTIALS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "username": {**_NAME, "examples": ["INSTALLER"],
                     "description": "the PBX login (a path URL's user@ wins)"},
        "password_env": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
                         "examples": ["ACME_BOLTON_PBX_PASSWORD"],
                         "description": "environment variable holding the password"},
        "password_file": {**_NAME, "examples": ["secrets/acme-bolton.pw"],
                          "description": "file holding the password (mode 0600, yours; "
                                         "relative to the inventory)"},
    },
}
_PATH_URL = {"type": "string", "pattern": r"^[a-z0-9]+://"}
#: The pool a path belongs to (a modem bank, a LAN region): its Celery queue
#: (docs/scale.md). It names a queue, so it is short and plain.
DEFAULT_POOL = "default"
POOL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_POOL = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": 64,
         "default": DEFAULT_POOL, "examples": ["modem-bank-a"],
         "description": "the worker pool that owns this line (docs/scale.md): a fleet on "
                        "Celery sends the job to this pool's queue"}
# The site's SMDR layout, pinned instead of told from the stream (docs/smdr.md): values
# are the layouts the parsers know; what contradicts the vendor is checked in _smdr.
_SMDR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "layout": {"enum": list(LAYOUT_ALIASES), "description": "the SMDR layout the PBX "
                   "prints (Panasonic A, B, C, hybrid; Toshiba R1.02, R1.03, DK)"},
        "date_order": {"enum": list(DATE_ORDERS), "description": "Panasonic date order "
                       "(DD/MM/YY or MM/DD/YY)"},
        "time": {"enum": list(TIME_FORMATS), "description": "Panasonic clock format; lines "
                 "in the other one are rejected"},
    },
}
_SITE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["customer", "vendor", "paths"],
    "properties": {
        "customer": {**_NAME, "examples": ["Acme Ltd"], "description": "the customer"},
        "name": {**_NAME, "examples": ["Bolton"], "description": "the site's name"},
        "vendor": {**_NAME, "examples": ["panasonic", "toshiba"],
                   "description": "the driver (a registered vendor name)"},
        "model": {**_NAME, "examples": ["KX-TDE200"], "description": "the PBX model"},
        "contract": {**_NAME, "default": "standard",
                     "description": "a name from contracts:"},
        "paths": {"type": "array", "minItems": 1,
                  "items": {"anyOf": [_PATH_URL, {
                      "type": "object", "additionalProperties": False, "required": ["url"],
                      "properties": {"url": _PATH_URL, "credentials": _CREDENTIALS,
                                     "pool": _POOL}}]},
                  "examples": [["ssh://INSTALLER@10.1.2.3:22",
                                "modem:///dev/ttyUSB0?number=01204368634"]],
                  "description": "line URLs, tried in order (docs/transports.md); a path "
                                 "with its own login or pool is {url: ..., credentials: "
                                 "{...}, pool: ...}"},
        "known_hosts": {**_NAME, "examples": ["known_hosts"],
                        "description": "SSH host keys (relative to the inventory)"},
        "credentials": {**_CREDENTIALS, "description": "how to log in to the PBX"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 15,
                    "description": "seconds to wait for each PBX answer"},
        "reach_timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                          "default": 180,
                          "description": "seconds, over all paths, to reach the PBX and "
                                         "log in (a modem path also has its own line_time, "
                                         "60 s by default)"},
        "maintenance": MAINTENANCE_SCHEMA,
        "smdr": {**_SMDR, "examples": [{"layout": "B", "date_order": "DMY", "time": "12h"}],
                 "description": "pin the SMDR layout (default: told from the stream)"},
        "smdr_link": smdr_settings.SCHEMA,
    },
}
_ENV_NAME = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}
_ADDRESSES = {"type": "array", "minItems": 1,
              "items": {"type": "string", "pattern": r"^[^@\s<>]+@[^@\s<>]+$"}}
_ESCALATE_TO = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "account_manager": {**_ADDRESSES, "description": "mailed at the first escalation"},
        "technical_director": {**_ADDRESSES, "description": "mailed at the second"},
    },
}
_NOTIFICATIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": {
            "type": "object",
            "description": "mail to the desk (SMTP)",
            "additionalProperties": False,
            "required": ["host", "from", "to"],
            "properties": {
                "host": {**_NAME, "examples": ["smtp.example.net"],
                         "description": "the SMTP server"},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 587,
                         "description": "its port"},
                "starttls": {"type": "boolean", "default": True,
                             "description": "upgrade to TLS with STARTTLS"},
                "ssl": {"type": "boolean", "default": False,
                        "description": "implicit TLS (port 465) instead of STARTTLS"},
                "username": {**_NAME, "description": "SMTP login"},
                "password_env": {**_ENV_NAME, "description": "variable holding the SMTP "
                                                             "password"},
                "password_file": {**_NAME, "description": "file holding it (0600)"},
                "ca_file": {**_NAME, "description": "CA bundle for a private server"},
                "from": {"type": "string", "pattern": r"@", "examples": ["desk@example.net"],
                         "description": "sender address"},
                "to": {**_ADDRESSES, "examples": [["support@example.net"]],
                       "description": "first-line support"},
                "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 30,
                            "description": "seconds per SMTP exchange"},
            },
        },
        "webhook": {
            "type": "object",
            "description": "an HMAC-signed HTTP POST per event",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "pattern": r"^https?://",
                        "examples": ["https://desk.example.net/hooks/pbxdiag"],
                        "description": "where each event is POSTed as JSON"},
                "secret_env": {**_ENV_NAME, "description": "variable holding the HMAC "
                                                           "signing secret"},
                "secret_file": {**_NAME, "description": "file holding it (0600)"},
                "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 10,
                            "description": "seconds per request"},
            },
        },
        "escalate_to": {**_ESCALATE_TO, "description": "who hears of escalations"},
        "contracts": {"type": "object", "description": "recipients per contract",
                      "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"to": {**_ADDRESSES, "description": "this contract's "
                                                               "recipients"},
                           "escalate_to": {**_ESCALATE_TO, "description": "this contract's "
                                                                          "escalations"}},
        }},
        "retry": {
            "type": "object",
            "description": "how failed deliveries are retried",
            "additionalProperties": False,
            "properties": {
                "first_delay_minutes": {"type": "number", "exclusiveMinimum": 0,
                                        "default": 1,
                                        "description": "wait before the first retry"},
                "max_delay_minutes": {"type": "number", "exclusiveMinimum": 0, "default": 60,
                                      "description": "longest wait between retries"},
                "max_attempts": {"type": "integer", "minimum": 1, "default": 10,
                                 "description": "attempts before a message is failed"},
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
        "contracts": {"type": "object", "additionalProperties": _CONTRACT,
                      "description": "service terms by contract name (sla.md)"},
        "sites": {"type": "object", "minProperties": 1, "additionalProperties": _SITE,
                  "description": "the sites, by site id"},
        # Where ticket notifications go (agent/tickets/settings.py, channels/; docs/tickets.md).
        "notifications": {**_NOTIFICATIONS,
                          "description": "where ticket notifications go (tickets.md)"},
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
    #: The run's total for reaching the PBX over every path (dialling, redials, logins).
    reach_timeout: float = 180.0
    #: The SMDR layout pinned by ``smdr:`` (None: tell it from the stream).
    smdr: SmdrOptions | None = None
    #: What is wrong with this site's own configuration (a path URL, its credentials, its
    #: id), found at load time without dialling. Such a site is refused — exit 2, nothing
    #: dialled, nothing filed — while the inventory's other sites still run.
    problems: tuple[InventoryError, ...] = ()
    #: Planned work (agent/maintenance.py): runs then file no ticket and mail no one.
    maintenance: tuple[MaintenanceWindow, ...] = ()
    #: A path's own login, by the path's index (None: the site's ``credentials``).
    path_credentials: tuple[CredentialRef | None, ...] = ()
    #: Each path's worker pool (its ``pool:``), by the path's index; absent: "default".
    path_pools: tuple[str, ...] = ()

    def credentials_for(self, index: int) -> CredentialRef:
        """The login for the site's path number ``index``: its own, else the site's."""
        own = self.path_credentials[index] if index < len(self.path_credentials) else None
        return own if own is not None else self.credentials

    def own_credentials(self, index: int) -> bool:
        return index < len(self.path_credentials) and self.path_credentials[index] is not None

    def pool_of(self, index: int) -> str:
        """The worker pool that owns path number ``index`` (docs/scale.md)."""
        return self.path_pools[index] if index < len(self.path_pools) else DEFAULT_POOL

    def pool_run(self, start: int) -> range:
        """The paths from ``start`` on that share its pool: what one worker tries before
        the job moves to the next path's pool."""
        end = start
        while end < len(self.paths) and self.pool_of(end) == self.pool_of(start):
            end += 1
        return range(start, end)
    #: The SMDR port ``pbxdiag smdr monitor`` reads (agent/smdr/settings.py), if any.
    smdr_link: smdr_settings.SmdrLink | None = None

    @property
    def title(self) -> str:
        return f"{self.customer}, {self.name}" if self.name else self.customer

    def check(self) -> None:
        """Raise this site's first configuration problem (bad input), if it has one."""
        if self.problems:
            raise self.problems[0]


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
    normalise_times(source.data)
    yamlsource.validate(source, SCHEMA, InventoryError)
    contracts: dict[str, dict[str, Any]] = source.data.get("contracts") or {}
    sites = {site_id: _site(source, site_id, raw, contracts, path.parent)
             for site_id, raw in source.data["sites"].items()}
    notifications = _notifications(source, contracts)
    return Inventory(path=path, sites=sites, notifications=notifications)


def inventory_problems(path: Path) -> list[InputError]:
    """Every problem of an inventory file, each at its line and column, without
    connecting: YAML, schema, then each site's own configuration."""
    try:
        source = yamlsource.load(path, InventoryError)
    except InventoryError as err:
        return [err]
    normalise_times(source.data)
    found = yamlsource.problems(source, SCHEMA, InventoryError)
    if found:
        return found
    try:
        inventory = load_inventory(path)
    except InventoryError as err:
        return [err]
    return [problem for site in inventory.sites.values() for problem in site.problems]


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
    site = Site(
        id=site_id,
        customer=raw["customer"],
        name=raw.get("name", ""),
        vendor=raw["vendor"],
        model=raw.get("model"),
        paths=tuple(p if isinstance(p, str) else p["url"] for p in raw["paths"]),
        path_credentials=tuple(_credential_ref(base, p.get("credentials"))
                               if isinstance(p, dict) else None for p in raw["paths"]),
        path_pools=tuple(p.get("pool", DEFAULT_POOL) if isinstance(p, dict) else DEFAULT_POOL
                         for p in raw["paths"]),
        contract=contract,
        contract_terms=dict(contracts.get(contract, {})),
        credentials=_credential_ref(base, creds) or CredentialRef(),
        known_hosts=_relative(base, raw.get("known_hosts")),
        timeout=float(raw.get("timeout", 15.0)),
        reach_timeout=float(raw.get("reach_timeout", 180.0)),
        maintenance=maintenance_windows(site_id, raw.get("maintenance") or [], lambda m, i, k:
                                        source.error(InventoryError, m,
                                                     ("sites", site_id, "maintenance", i, k))),
        smdr=_smdr(source, site_id, raw),
        smdr_link=smdr_settings.from_inventory(
            raw.get("smdr_link"), base,
            retention_days=contracts.get(contract, {}).get("smdr_retention_days")),
    )
    return _with_problems(site, source)


def _smdr(source: yamlsource.YamlSource, site_id: str, raw: dict[str, Any]
          ) -> SmdrOptions | None:
    """The site's SMDR pin; one that contradicts the vendor is bad input at its key."""
    pin: dict[str, str] | None = raw.get("smdr")
    if pin is None:
        return None
    problem = pin_problem(raw["vendor"], pin.get("layout"), pin.get("date_order"),
                          pin.get("time"))
    if problem is not None:
        key, message = problem
        raise source.error(InventoryError, f"site {site_id!r}: {message}",
                           ("sites", site_id, "smdr", key))
    # The schema has checked each value against DATE_ORDERS and TIME_FORMATS.
    return SmdrOptions(layout=pin.get("layout"),
                       date_order=cast("DateOrder | None", pin.get("date_order")),
                       time=cast("TimeFormat | None", pin.get("time")))


#: Site ids name folders and files (results, locks): letters, digits, ``. _ -`` only, so an
#: id like ``x/../../escaped`` can never write outside the output folder.
SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def _with_problems(site: Site, source: yamlsource.YamlSource) -> Site:
    """Every check of a site that needs no PBX: id, each path URL, the credentials."""
    from dataclasses import replace

    from agent.line.transports import transport_for_url

    problems: list[InputError] = []
    at = ("sites", site.id)
    if not SITE_ID.match(site.id):
        problems.append(source.error(
            InventoryError, f"site id {site.id!r} may use only letters, digits, '.', '_' and "
            "'-' (it names folders and files)", at, key=True))
    for index, url in enumerate(site.paths):
        try:
            transport_for_url(url, credentials=Credentials(None, None),
                              known_hosts=site.known_hosts, connect_timeout=site.timeout)
        except InputError as err:
            problems.append(source.error(InventoryError, f"site {site.id!r}: {err.message}",
                                         (*at, "paths", index)))
            continue
        stray = _known_hosts_outside(url, source)
        if stray:
            problems.append(source.error(InventoryError, f"site {site.id!r}: {stray}",
                                         (*at, "paths", index)))
    logins: list[tuple[CredentialRef, tuple[str | int, ...]]] = [
        (site.credentials, (*at, "credentials"))]
    logins += [(ref, (*at, "paths", index, "credentials"))
               for index, ref in enumerate(site.path_credentials) if ref is not None]
    for ref, where in logins:
        try:
            ref.resolve()
        except InventoryError as err:
            key = "password_env" if ref.password_env else "password_file"
            problems.append(source.error(InventoryError, f"site {site.id!r}: {err.message}",
                                         (*where, key)))
    if site.smdr_link is not None:
        for key, message in smdr_settings.problems(site.smdr_link):
            problems.append(source.error(InventoryError, f"site {site.id!r}: smdr_link: "
                                         f"{message}", (*at, "smdr_link", key)))
    located = tuple(InventoryError(p.message, path=p.path, line=p.line, column=p.column)
                    for p in problems)
    return replace(site, problems=located) if located else site


def _credential_ref(base: Path, raw: dict[str, Any] | None) -> CredentialRef | None:
    if raw is None:
        return None
    return CredentialRef(username=raw.get("username"), password_env=raw.get("password_env"),
                         password_file=_relative(base, raw.get("password_file")))


def _known_hosts_outside(url: str, source: yamlsource.YamlSource) -> str | None:
    """A URL's own ``known_hosts=`` file is written to (trust on first use appends): it
    must lie in the inventory's folder or pbxdiag's data dir, never anywhere at all."""
    from urllib.parse import parse_qs, urlsplit

    from agent.paths import default_data_dir

    named = parse_qs(urlsplit(url).query).get("known_hosts")
    if not named:
        return None
    path = Path(named[-1]).expanduser().resolve()
    roots = [default_data_dir().resolve()]
    if source.path is not None:
        roots.append(Path(source.path).resolve().parent)
    if any(path.is_relative_to(root) for root in roots):
        return None
    return (f"known_hosts={named[-1]} in a path URL must be in the inventory's folder or "
            f"the data dir ({', '.join(str(r) for r in roots)})")


def _relative(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
