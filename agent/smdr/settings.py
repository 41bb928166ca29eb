"""The inventory key ``smdr_link`` of a site: where and how the monitor reads its SMDR.

Kept apart from ``smdr:`` (the layout a site pins, read by the parsers) because this
one is about the *line*: the SMDR port's URL, the SMDR login, where its password lives,
and whether the monitor may use the port at all. A PBX with one SMDR client whose
customer's call logger holds it says ``single_client: true`` and the monitor leaves it
alone. This module sits beside ``agent.inventory`` and imports only ``agent.line`` and
``agent.errors`` so the inventory can read it without reaching upward.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from agent.errors import InputError
from agent.line.secrets import SecretRef

#: The SMDR login a Panasonic LAN port (and the simulators' Toshiba port) asks for.
DEFAULT_LOGIN: Final = "SMDR"
#: ``login: none`` — a serial SMDR port prints with no dialogue.
NO_LOGIN: Final = "none"
SCHEMES: Final = ("tcp", "telnet", "serial", "rfc2217")

SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "description": "the SMDR port the monitor reads (smdr.md \"The monitor\")",
    "properties": {
        "url": {"type": "string", "pattern": r"^(tcp|telnet|serial|rfc2217)://",
                "examples": ["tcp://10.1.2.3:2300"],
                "description": "the SMDR port: tcp:// (Panasonic LAN port 2300), telnet://, "
                               "serial:// or rfc2217:// (transports.md)"},
        "login": {"type": "string", "minLength": 1, "maxLength": 32, "default": DEFAULT_LOGIN,
                  "description": "the SMDR login sent at the port's '-' prompt; 'none' for "
                                 "a port that prints with no dialogue"},
        "password_env": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
                         "examples": ["ACME_BOLTON_SMDR_PASSWORD"],
                         "description": "environment variable holding the SMDR password"},
        "password_file": {"type": "string", "minLength": 1,
                          "description": "file holding it (mode 0600; relative to the "
                                         "inventory)"},
        "single_client": {"type": "boolean", "default": False,
                          "description": "the PBX serves one SMDR client and the customer's "
                                         "call logger uses it: the monitor leaves it alone"},
        "reconnect_max_seconds": {"type": "number", "minimum": 1, "maximum": 3600,
                                  "default": 60,
                                  "description": "longest wait between reconnects (the "
                                                 "back-off doubles from 1 s up to this)"},
        "retention_days": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 365,
                           "description": "days a stored call record is kept (default: the "
                                          "contract's smdr_retention_days, else 365); "
                                          "alarm lines stay"},
        "mask_dialled": {"type": "boolean", "default": False,
                         "description": "store and export dialled numbers and caller IDs with "
                                        "all but their first digits masked (UK GDPR)"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 300, "default": 15,
                    "description": "seconds to connect and for each step of the login"},
        "silence_minutes": {"type": "number", "minimum": 1, "maximum": 10080, "default": 60,
                            "description": "working-hours minutes with nothing new on the "
                                           "SMDR link before a confirming health-check run "
                                           "(smdr.md \"Signals\")"},
        "no_outgoing_minutes": {"type": "number", "minimum": 1, "maximum": 10080,
                                "default": 120,
                                "description": "working-hours minutes with no outgoing call "
                                               "before the baseline is asked whether calls "
                                               "were expected"},
        "expected_calls": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000,
                           "default": 3,
                           "description": "outgoing calls the four-week baseline must expect "
                                          "in that quiet stretch for a confirming run"},
    },
}


@dataclass(frozen=True, slots=True)
class SmdrLink:
    """A site's SMDR port as the inventory names it (secrets as references only)."""

    url: str
    login: str = DEFAULT_LOGIN
    password_env: str | None = None
    password_file: Path | None = None
    single_client: bool = False
    reconnect_max_s: float = 60.0
    timeout: float = 15.0
    retention_days: int = 365
    mask_dialled: bool = False
    silence_minutes: float = 60.0
    no_outgoing_minutes: float = 120.0
    expected_calls: float = 3.0

    @property
    def password(self) -> SecretRef:
        return SecretRef("the SMDR password", self.password_env, self.password_file)

    @property
    def logs_in(self) -> bool:
        return self.login.lower() != NO_LOGIN


def from_inventory(raw: dict[str, Any] | None, base: Path, *,
                   retention_days: int | None = None) -> SmdrLink | None:
    """The validated (by the schema) ``smdr_link`` mapping as a ``SmdrLink``.

    ``retention_days`` is the site's contract term ``smdr_retention_days``, the default
    when the link names none (the link's own value wins: a site may keep less)."""
    if not raw:
        return None
    file = raw.get("password_file")
    path = None
    if file is not None:
        path = Path(file).expanduser()
        path = path if path.is_absolute() else base / path
    return SmdrLink(url=raw["url"], login=raw.get("login", DEFAULT_LOGIN),
                    password_env=raw.get("password_env"), password_file=path,
                    single_client=bool(raw.get("single_client", False)),
                    reconnect_max_s=float(raw.get("reconnect_max_seconds", 60)),
                    timeout=float(raw.get("timeout", 15)),
                    retention_days=int(raw.get("retention_days", retention_days or 365)),
                    mask_dialled=bool(raw.get("mask_dialled", False)),
                    silence_minutes=float(raw.get("silence_minutes", 60)),
                    no_outgoing_minutes=float(raw.get("no_outgoing_minutes", 120)),
                    expected_calls=float(raw.get("expected_calls", 3)))


def problems(link: SmdrLink) -> list[tuple[str, str]]:
    """What is wrong with a link without opening it: ``(key, message)`` pairs."""
    from agent.line.transports import transport_for_url
    from agent.line.transports.base import Credentials

    found: list[tuple[str, str]] = []
    if link.password_env is not None and link.password_file is not None:
        found.append(("password_env", "give password_env or password_file, not both"))
    try:
        transport_for_url(link.url, credentials=Credentials(None, None),
                          connect_timeout=link.timeout)
    except InputError as err:
        found.append(("url", err.message))
    try:
        link.password.resolve(InputError)
    except InputError as err:
        found.append(("password_env" if link.password_env else "password_file", err.message))
    if link.logs_in and link.password_env is None and link.password_file is None:
        found.append(("login", f"login {link.login!r} needs password_env or password_file "
                               "(or login: none for a port with no dialogue)"))
    return found
