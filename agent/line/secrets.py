"""Secrets are marked where they enter (inventory, ``send_secret``) and scrubbed everywhere.

A ``Secret`` never prints its value (``str``/``repr`` give a mask); ``reveal()`` is the
one explicit place a value is handed to a line. Every revealed value is remembered by
the process-wide ``REDACTOR`` so logs, transcripts, results and exception texts can be
scrubbed even where the secret came back as an echo.
"""

from __future__ import annotations

import re
import threading

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
