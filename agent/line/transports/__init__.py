"""One factory builds any line from a URL; see docs/transports.md for every form.

``ssh://user@host:22``, ``telnet://host:23``, ``tcp://host:port``, ``rfc2217://host:port``,
``serial:///dev/ttyUSB0?baud=9600&parity=N``, ``modem:///dev/ttyUSB0?number=599``.
Options come from the URL's query string and from keyword arguments (a site's settings);
a keyword argument wins over the same name in the query. An option a line does not
know is bad input, named with the options that line does know — a typo in an inventory
must not silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from agent.line.errors import InputError
from agent.line.transports.base import Credentials, Transport

__all__ = ["SCHEMES", "Credentials", "Transport", "transport_for_url"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class _Options:
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
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise self._bad(name, value, "a whole number") from None
        if number < minimum:
            raise self._bad(name, value, f"a whole number of at least {minimum}")
        return number

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self._bad(name, value, "a number") from None
        if number < minimum:
            raise self._bad(name, value, f"a number of at least {minimum:g}")
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
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


Builder = Callable[[SplitResult, _Options, Credentials, Path | None, float], Transport]


def _host_port(parts: SplitResult, opts: _Options, default_port: int | None) -> tuple[str, int]:
    try:
        port = parts.port or default_port
    except ValueError:
        raise InputError(f"bad port in {opts.url}") from None
    if not parts.hostname or port is None:
        raise InputError(f"{parts.scheme} URL needs a host and a port: {opts.url}")
    return parts.hostname, port


def _device(parts: SplitResult, opts: _Options) -> str:
    if parts.netloc or not parts.path.startswith("/"):
        raise InputError(f"{parts.scheme} URL needs an absolute device path, e.g. "
                         f"{parts.scheme}:///dev/ttyUSB0 — got {opts.url}")
    return parts.path


def _ssh(parts: SplitResult, opts: _Options, credentials: Credentials,
         known_hosts: Path | None, connect_timeout: float) -> Transport:
    from agent.line.transports.ssh import DEFAULT_KEEPALIVE, SSHTransport

    host, port = _host_port(parts, opts, 22)
    return SSHTransport(
        host=host, port=port,
        credentials=Credentials(parts.username or credentials.username, credentials.password),
        known_hosts=opts.path("known_hosts") or known_hosts, connect_timeout=connect_timeout,
        key_file=opts.path("key_file"), tofu=opts.flag("tofu"), legacy=opts.flag("legacy"),
        keepalive=opts.integer("keepalive", DEFAULT_KEEPALIVE))


def _telnet(parts: SplitResult, opts: _Options, credentials: Credentials,
            known_hosts: Path | None, connect_timeout: float) -> Transport:
    from agent.line.transports.telnet import TelnetTransport

    host, port = _host_port(parts, opts, 23)
    return TelnetTransport(host=host, port=port, connect_timeout=connect_timeout)


def _wake(opts: _Options) -> bytes:
    return (opts.text("wake", "\r") or "").encode("latin-1", errors="replace")


def _settings(opts: _Options) -> Any:
    from agent.line.transports.serial import DEFAULT_BAUD, SerialSettings

    return SerialSettings(
        baud=opts.integer("baud", DEFAULT_BAUD, minimum=1),
        data_bits=opts.integer("databits", 8),
        parity=(opts.text("parity", "N") or "N").upper(),
        stop_bits=opts.text("stopbits", "1") or "1",
        xonxoff=opts.flag("xonxoff"), rtscts=opts.flag("rtscts"))


def _tcp(parts: SplitResult, opts: _Options, credentials: Credentials,
         known_hosts: Path | None, connect_timeout: float) -> Transport:
    from agent.line.transports.serial import SerialTransport

    host, port = _host_port(parts, opts, None)
    return SerialTransport(port_url=f"socket://{host}:{port}", display_url=f"tcp://{host}:{port}",
                           connect_timeout=connect_timeout, exclusive=False, wake=_wake(opts))


def _rfc2217(parts: SplitResult, opts: _Options, credentials: Credentials,
             known_hosts: Path | None, connect_timeout: float) -> Transport:
    from agent.line.transports.serial import SerialTransport

    host, port = _host_port(parts, opts, None)
    return SerialTransport(port_url=f"rfc2217://{host}:{port}",
                           display_url=f"rfc2217://{host}:{port}", settings=_settings(opts),
                           connect_timeout=connect_timeout, exclusive=False, wake=_wake(opts))


def _serial(parts: SplitResult, opts: _Options, credentials: Credentials,
            known_hosts: Path | None, connect_timeout: float) -> Transport:
    from agent.line.transports.serial import SerialTransport

    device = _device(parts, opts)
    return SerialTransport(port_url=device, display_url=f"serial://{device}",
                           settings=_settings(opts), connect_timeout=connect_timeout,
                           exclusive=opts.flag("exclusive", True), wake=_wake(opts))


def _modem(parts: SplitResult, opts: _Options, credentials: Credentials,
           known_hosts: Path | None, connect_timeout: float) -> Transport:
    from agent.line.transports.modem import DEFAULT_INIT, ModemOptions, ModemTransport

    device = _device(parts, opts)
    number = opts.text("number")
    if not number:
        raise InputError(f"modem URL needs the number to dial (?number=...): {opts.url}")
    dial = (opts.text("dial", "tone") or "tone").lower()
    if dial not in ("tone", "pulse"):
        raise InputError(f"option dial={dial!r} in {opts.url}: expected tone or pulse")
    options = ModemOptions(
        number=number, init=opts.texts("init", DEFAULT_INIT), pulse=dial == "pulse",
        retries=opts.integer("retries", 2), backoff=opts.number("backoff", 5.0),
        dial_timeout=opts.number("dial_timeout", 60.0, minimum=1.0),
        command_timeout=opts.number("command_timeout", 5.0, minimum=0.1),
        guard=opts.number("guard", 1.0), carrier_file=opts.path("carrier_file"),
        carrier_poll=opts.number("carrier_poll", 0.25, minimum=0.01))
    return ModemTransport(device=device, options=options, settings=_settings(opts))


_BUILDERS: dict[str, Builder] = {
    "ssh": _ssh, "telnet": _telnet, "tcp": _tcp, "rfc2217": _rfc2217, "serial": _serial,
    "modem": _modem,
}
SCHEMES = tuple(_BUILDERS)


def transport_for_url(url: str, *, credentials: Credentials, known_hosts: Path | None = None,
                      connect_timeout: float = 10.0, **options: Any) -> Transport:
    """Build (not open) the transport a URL names; unknown schemes are bad input."""
    parts = urlsplit(url)
    shown = _without_password(parts)
    builder = _BUILDERS.get(parts.scheme)
    if builder is None:
        raise InputError(f"unsupported line type {parts.scheme!r} in {shown!r} "
                         f"(supported: {', '.join(SCHEMES)})")
    values: dict[str, Any] = dict(parse_qs(parts.query, keep_blank_values=True))
    values.update(options)
    opts = _Options(shown, values)
    transport = builder(parts, opts, credentials, known_hosts, connect_timeout)
    opts.reject_unknown(parts.scheme)
    return transport


def _without_password(parts: SplitResult) -> str:
    """The URL as it may appear in a message: a password in it is never repeated."""
    if parts.password is None:
        return parts.geturl()
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{user}{host}{port}").geturl()
