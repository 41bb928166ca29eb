"""Secrets are marked where they enter (inventory, ``send_secret``) and scrubbed everywhere.

A ``Secret`` never prints its value (``str``/``repr`` give a mask); ``reveal()`` is the
one explicit place a value is handed to a line. Every revealed value is remembered by
the process-wide ``REDACTOR`` so logs, transcripts, results and exception texts can be
scrubbed even where the secret came back as an echo. A ``SecretRef`` is where a secret
lives (an environment variable or a file, never a config file), resolved when it is needed.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from agent.line.errors import InputError

MASK = "********"
#: Shorter secrets are refused where they enter: masking every "x" in every transcript
#: would garble the evidence (``e********tensions``) and a secret that short protects
#: nothing. Panasonic's own system passwords are 4-10 characters.
MIN_SECRET_LEN = 4


class SecretTooShort(ValueError):
    """A credential shorter than ``MIN_SECRET_LEN``: bad input where it was configured."""


class Redactor:
    """Replaces every known secret in text with a mask (thread-safe, process-wide)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if not value:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._values)

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text

    def scrub_bytes(self, data: bytes) -> bytes:
        pattern = self._pattern
        if pattern is None:
            return data
        return self.scrub(data.decode("latin-1")).encode("latin-1")


REDACTOR = Redactor()


class Secret:
    """A credential that will not leak through formatting or logging."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if 0 < len(value) < MIN_SECRET_LEN:
            raise SecretTooShort(f"a secret must be at least {MIN_SECRET_LEN} characters long "
                                 f"(this one has {len(value)})")
        self._value = value
        REDACTOR.add(value)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret lives: an environment variable or a file, never the inventory.

    Site passwords and notification secrets (SMTP password, webhook key) are all read
    this one way, at the moment they are used, so a rotated secret needs no restart.
    ``what`` names it in errors ("the webhook secret"); ``resolve`` raises the caller's
    kind of bad-input error (the inventory's, for secrets it names).
    """

    what: str
    env: str | None = None
    file: Path | None = None

    def resolve(self, error: type[InputError] = InputError) -> Secret | None:
        """The secret now, or None when neither a variable nor a file is named.

        A file must be the user's own and unreadable by others (0600 or 0400): one the
        group or the world can read is refused, not read. A secret under
        ``MIN_SECRET_LEN`` characters is refused too."""
        try:
            if self.env is not None:
                value = os.environ.get(self.env)
                if value is None:
                    raise error(f"environment variable {self.env} ({self.what}) is not set")
                return Secret(value)
            if self.file is not None:
                return Secret(self._read_private(error))
        except SecretTooShort as err:
            raise error(f"{self.what} is too short: {err}") from None
        return None

    def _read_private(self, error: type[InputError]) -> str:
        assert self.file is not None
        try:
            info = self.file.stat()
            if info.st_mode & 0o077:
                raise error(f"{self.what} file {self.file} is readable by others (mode "
                            f"{info.st_mode & 0o777:04o}): chmod 600 it")
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                raise error(f"{self.what} file {self.file} belongs to another user")
            return self.file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as err:
            raise error(f"cannot read {self.what} file: {err.strerror}",
                        path=str(self.file)) from None
