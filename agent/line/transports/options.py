"""What a line URL and a site's settings say about one line, read the same way by every scheme.

Each scheme module builds its transport from a ``LineRequest``: the split URL, its
options (query string merged with the site's keyword settings, the settings winning),
the site's credentials and defaults. The options are typed on read and remembered, so the
factory can reject, after the build, every option the scheme never asked for — a typo
in an inventory must not silently fall back to a default — and name the ones it knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult

from agent.line.errors import InputError
from agent.line.transports.base import Credentials

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_Number = TypeVar("_Number", int, float)


class LineOptions:
    """Typed access to a line's options; remembers which ones were used."""

    def __init__(self, url: str, values: Mapping[str, Any]) -> None:
        self.url = url
        self._values = dict(values)
        self._used: set[str] = set()

    def _raw(self, name: str) -> Any:
        self._used.add(name)
        value = self._values.get(name)
        if isinstance(value, list):
            return value[-1] if value else None
        return value

    def _bad(self, name: str, value: object, wanted: str) -> InputError:
        return InputError(f"option {name}={value!r} in {self.url}: expected {wanted}")

    def given(self, name: str) -> bool:
        """Whether the URL or the site set ``name`` at all (a default is not "given")."""
        self._used.add(name)
        return self._values.get(name) is not None

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self._raw(name)
        return default if value is None else str(value)

    def texts(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        self._used.add(name)
        value = self._values.get(name)
        if value is None:
            return default
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(str(item) for item in items if str(item))

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        return self._at_least(name, default, int, wanted="a whole number", minimum=minimum,
                              shown_minimum=f"{minimum}")

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        return self._at_least(name, default, float, wanted="a number", minimum=minimum,
                              shown_minimum=f"{minimum:g}")

    def _at_least(self, name: str, default: _Number, convert: Callable[[Any], _Number], *,
                  wanted: str, minimum: _Number, shown_minimum: str) -> _Number:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = convert(value)
        except (TypeError, ValueError):
            raise self._bad(name, value, wanted) from None
        if number < minimum:
            raise self._bad(name, value, f"{wanted} of at least {shown_minimum}")
        return number

    def flag(self, name: str, default: bool = False, *, bare: bool = False) -> bool:
        """``1``/``0`` and the like; with ``bare``, a name without a value (``?name``) is
        on, as pyserial reads its own RFC 2217 flags."""
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if bare and not text:
            return True
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise self._bad(name, value, "1 or 0")

    def path(self, name: str) -> Path | None:
        value = self._raw(name)
        return None if value is None or value == "" else Path(str(value)).expanduser()

    def reject_unknown(self, scheme: str) -> None:
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            known = ", ".join(sorted(self._used)) or "none"
            raise InputError(f"unknown option(s) {', '.join(unknown)} for {scheme}:// lines in "
                             f"{self.url} (supported: {known})")


@dataclass(frozen=True, slots=True)
class LineRequest:
    """Everything a scheme's builder gets: the URL, its options, the site's defaults."""

    parts: SplitResult
    options: LineOptions
    credentials: Credentials
    known_hosts: Path | None
    connect_timeout: float

    def host_port(self, default_port: int | None) -> tuple[str, int]:
        """Host and port of a network line; ``default_port=None`` makes the port required."""
        try:
            port = self.parts.port or default_port
        except ValueError:
            raise InputError(f"bad port in {self.options.url}") from None
        if not self.parts.hostname or port is None:
            raise InputError(f"{self.parts.scheme} URL needs a host and a port: "
                             f"{self.options.url}")
        return self.parts.hostname, port

    def device(self) -> str:
        """The absolute device path of a local line (``serial:///dev/ttyUSB0``)."""
        scheme = self.parts.scheme
        if self.parts.netloc or not self.parts.path.startswith("/"):
            raise InputError(f"{scheme} URL needs an absolute device path, e.g. "
                             f"{scheme}:///dev/ttyUSB0 — got {self.options.url}")
        return self.parts.path
