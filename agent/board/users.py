"""The board's users, roles and API tokens, kept in one YAML file beside the register.

A file rather than a table because the people who may read the board are configuration,
set by whoever installs it (``pbxdiag users add``), not data the register's writers
touch. Passwords are argon2id hashes (argon2-cffi); API tokens are random and only their
SHA-256 is kept — a token has 256 bits of entropy, so a fast hash is enough and lets the
server check one per request. Every write replaces the file atomically, mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agent.errors import InputError

Role = Literal["desk", "engineer", "admin"]
ROLES: Final[tuple[Role, ...]] = ("desk", "engineer", "admin")
#: What each role may do; every role has the ones of the roles before it.
PERMISSIONS: Final[dict[Role, frozenset[str]]] = {
    "desk": frozenset({"read", "note"}),
    "engineer": frozenset({"read", "note", "status", "book_visit", "resolve", "escalate",
                           "maintenance"}),
    "admin": frozenset({"read", "note", "status", "book_visit", "resolve", "escalate",
                        "maintenance", "users", "tokens", "cancel", "merge"}),
}
MAX_USERS: Final = 500
MAX_TOKENS: Final = 2000
MAX_PASSWORD: Final = 1024
MIN_PASSWORD: Final = 8
TOKEN_PREFIX: Final = "pbxb_"  # noqa: S105 (a marker, not a secret)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_HASHER = PasswordHasher()
#: Verified against when the user does not exist, so a wrong name costs as long as a
#: wrong password and timing does not tell which names exist.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    password_hash: str

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    user: str
    digest: str
    created: datetime
    revoked: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserFile:
    users: dict[str, User] = field(default_factory=dict)
    tokens: tuple[Token, ...] = ()


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(f"user name {name!r}: letters, digits and . _ @ - only "
                         "(at most 64, starting with a letter or digit)")
    return name


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(f"a password needs {MIN_PASSWORD}–{MAX_PASSWORD} characters")
    return _HASHER.hash(password)


def load(path: Path) -> UserFile:
    """The users file; a missing file is no users (the board then lets nobody in)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UserFile()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the users file: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping with users: and tokens:")
    return UserFile(users=_users(path, raw.get("users") or {}),
                    tokens=_tokens(path, raw.get("tokens") or []))


def save(path: Path, data: UserFile) -> None:
    raw = {
        "users": {u.name: {"role": u.role, "password": u.password_hash}
                  for u in sorted(data.users.values(), key=lambda u: u.name)},
        "tokens": [{"id": t.id, "user": t.user, "sha256": t.digest,
                    "created": t.created.isoformat(),
                    "revoked": t.revoked.isoformat() if t.revoked else None}
                   for t in data.tokens],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.chmod(tmp, 0o600)
            yaml.safe_dump(raw, handle, sort_keys=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_user(data: UserFile, name: str, role: str, password: str) -> UserFile:
    check_name(name)
    if name not in data.users and len(data.users) >= MAX_USERS:
        raise InputError(f"at most {MAX_USERS} users")
    user = User(name=name, role=check_role(role), password_hash=hash_password(password))
    return replace(data, users={**data.users, name: user})


def remove_user(data: UserFile, name: str, *, now: datetime) -> UserFile:
    if name not in data.users:
        raise InputError(f"no board user {name!r}")
    users = {k: v for k, v in data.users.items() if k != name}
    return replace(data, users=users, tokens=tuple(
        replace(t, revoked=t.revoked or now) if t.user == name else t for t in data.tokens))


def new_token(data: UserFile, name: str, *, now: datetime) -> tuple[UserFile, str]:
    """A new API token for ``name``: the file keeps its hash; the caller shows it once."""
    if name not in data.users:
        raise InputError(f"no board user {name!r}")
    if len(data.tokens) >= MAX_TOKENS:
        raise InputError(f"at most {MAX_TOKENS} tokens: remove revoked ones from the file")
    token_id = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    token = Token(id=token_id, user=name, digest=_digest(secret), created=now)
    return replace(data, tokens=(*data.tokens, token)), secret


def revoke_token(data: UserFile, token_id: str, *, now: datetime) -> UserFile:
    if not any(t.id == token_id for t in data.tokens):
        raise InputError(f"no token {token_id!r}")
    return replace(data, tokens=tuple(replace(t, revoked=t.revoked or now)
                                      if t.id == token_id else t for t in data.tokens))


def authenticate(data: UserFile, name: str, password: str) -> User | None:
    """The user when the password is right; the same work is done when the name is not."""
    user = data.users.get(name)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    return user


def user_for_token(data: UserFile, secret: str) -> User | None:
    """The user a live (unrevoked) bearer token belongs to."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = _digest(secret)
    for token in data.tokens:
        if token.revoked is None and hmac.compare_digest(token.digest, digest):
            return data.users.get(token.user)
    return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _users(path: Path, raw: Any) -> dict[str, User]:
    if not isinstance(raw, dict) or len(raw) > MAX_USERS:
        raise InputError(f"{path}: users: must be a mapping of at most {MAX_USERS} names")
    users: dict[str, User] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("password"), str):
            raise InputError(f"{path}: user {name!r}: needs role: and password: (a hash)")
        try:
            users[str(name)] = User(check_name(str(name)), check_role(str(entry.get("role"))),
                                    entry["password"])
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
    return users


def _tokens(path: Path, raw: Any) -> tuple[Token, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_TOKENS:
        raise InputError(f"{path}: tokens: must be a list of at most {MAX_TOKENS}")
    tokens = []
    for entry in raw:
        try:
            revoked = entry.get("revoked")
            tokens.append(Token(id=str(entry["id"]), user=str(entry["user"]),
                                digest=str(entry["sha256"]),
                                created=_when(entry["created"]),
                                revoked=_when(revoked) if revoked else None))
        except (KeyError, TypeError, AttributeError, ValueError):
            raise InputError(f"{path}: a token needs id, user, sha256 and created") from None
    return tuple(tokens)


def _when(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
