"""SSH line (paramiko) with host keys verified against a known_hosts file.

There is no silent auto-add: an unknown key is refused with its fingerprint so support
can check it with the site — unless the site opts in to trust-on-first-use (``tofu``),
which records the first key seen (and logs its fingerprint). A *changed* key is always
refused, TOFU or not. The socket gets TCP_NODELAY (``connect.py``) because paramiko never
sets it and each authentication round would otherwise stall ~40 ms.

Per-site options: ``key_file`` (public-key authentication first, password or
keyboard-interactive after), ``tofu``, ``legacy`` and ``keepalive``. For a console server
or jump box whose shell shows the PBX's own ``Login:`` prompt, ``pbx_login=1`` says the
PBX login follows the SSH login (the driver logs in again over the channel) and asks,
unless ``pty=`` says otherwise, for a raw pty that passes bytes untouched (``ssh_pty.py``);
``wake`` presses a key
until the console speaks (``wake.py``). ``via=ssh://user@bastion:22`` reaches the PBX
through a jump host: a direct-tcpip channel on the bastion's SSH session carries the
PBX's own SSH session, both host keys checked against the same known_hosts file (the
bastion under its own name). The bastion is logged in to with ``via_key_file`` only —
the site's password is the PBX's and is never offered to another host. By default the
weak algorithms paramiko still ships (CBC and 3DES ciphers, MD5 and SHA-1 MACs) are
disabled; ``legacy`` enables them for old PBX firmware. paramiko 4+ no longer has SHA-1
key exchange, ``ssh-rsa`` (SHA-1) signatures or DSA keys at all: a PBX that offers only
those cannot be reached over SSH by pbxdiag (use its telnet/serial path).
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import paramiko
import structlog

from agent.line.errors import AuthFailed, ConnectFailed, HostKeyRejected, InputError, LineDropped
from agent.line.secrets import REDACTOR
from agent.line.transports.base import Credentials, Transport
from agent.line.transports.connect import open_tcp_socket
from agent.line.transports.options import LineOptions, LineRequest
from agent.line.transports.ssh_pty import PTY_KINDS, request_pty
from agent.line.transports.wake import Wake, press, wake_option

log = structlog.get_logger(__name__)

#: Still in paramiko but weak: off unless a site asks for ``legacy``.
WEAK_ALGORITHMS: dict[str, list[str]] = {
    "ciphers": ["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"],
    "macs": ["hmac-md5", "hmac-md5-96", "hmac-sha1", "hmac-sha1-96"],
}
DEFAULT_KEEPALIVE = 30  # seconds: keeps a NAT or firewall from dropping a quiet session
_KNOWN_HOSTS_LOCK = threading.Lock()


def known_hosts_name(host: str, port: int) -> str:
    """The name OpenSSH files a host under: bare host on 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


_PARSED_LOCK = threading.Lock()
_PARSED: dict[Path, tuple[bytes, paramiko.HostKeys]] = {}


def known_hosts_file(path: Path) -> paramiko.HostKeys | None:
    """The parsed file, parsed again only when its content changed (None if absent).

    Parsing decodes every key in the file: a fleet's known_hosts with hundreds of PBXs
    would otherwise be parsed again for every connection. The cache is keyed by a digest
    of the content, never by timestamps: a key replaced within one clock tick must still
    be seen.
    """
    try:
        stamp = hashlib.sha256(path.read_bytes()).digest()
    except FileNotFoundError:
        return None
    with _PARSED_LOCK:
        cached = _PARSED.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    parsed = paramiko.HostKeys(str(path))
    with _PARSED_LOCK:
        _PARSED[path] = (stamp, parsed)
    return parsed


class SSHTransport(Transport):
    authenticates = True

    def __init__(self, *, host: str, port: int, credentials: Credentials,
                 known_hosts: Path | None, connect_timeout: float = 10.0,
                 term_width: int = 132, key_file: Path | None = None, tofu: bool = False,
                 legacy: bool = False, keepalive: int = DEFAULT_KEEPALIVE,
                 pbx_login: bool = False, pty: str = "cooked", wake: Wake | None = None,
                 via: SSHTransport | None = None) -> None:
        super().__init__()
        self.authenticates = not pbx_login
        self.pty = pty
        self.wake = wake
        self.via = via
        self._hop: paramiko.Transport | None = None
        self._pending = b""
        self.host = host
        self.port = port
        self.credentials = credentials
        self.known_hosts = known_hosts
        self.connect_timeout = connect_timeout
        self.term_width = term_width
        self.key_file = key_file
        self.tofu = tofu
        self.legacy = legacy
        self.keepalive = keepalive
        self._transport: paramiko.Transport | None = None
        self._channel: paramiko.Channel | None = None

    @property
    def display_url(self) -> str:
        user = f"{self.credentials.username}@" if self.credentials.username else ""
        shown = f"ssh://{user}{self.host}:{self.port}"
        return shown if self.via is None else f"{shown}?via={self.via.display_url}"

    def open(self) -> None:
        try:
            self._transport = self.connect(self._socket())
            self._channel = self._open_shell(self._transport)
            if self.wake is not None:
                self._pending = press(self.wake, self.write, self._read)
        except BaseException:
            self.close()
            raise

    def _socket(self) -> socket.socket | paramiko.Channel:
        """A TCP connection to the PBX, or a direct-tcpip channel through the jump host."""
        if self.via is None:
            return open_tcp_socket(self.host, self.port, timeout=self.connect_timeout,
                                   shown=self.display_url)
        via = self.via
        try:
            self._hop = via.connect(open_tcp_socket(via.host, via.port,
                                                    timeout=self.connect_timeout,
                                                    shown=via.display_url))
        except AuthFailed as err:  # the bastion's no, not the PBX's: the next path may do
            raise ConnectFailed(f"the jump host refused the login: {err}") from None
        try:
            return self._hop.open_channel("direct-tcpip", (self.host, self.port),
                                          ("127.0.0.1", 0), timeout=self.connect_timeout)
        except (paramiko.SSHException, OSError) as err:
            raise ConnectFailed(f"the jump host {via.display_url} could not reach "
                                f"{self.host}:{self.port}: {REDACTOR.scrub(str(err))}") from None

    def connect(self, sock: socket.socket | paramiko.Channel) -> paramiko.Transport:
        """An authenticated SSH session over ``sock`` (host key checked), no shell yet."""
        transport = paramiko.Transport(
            sock, disabled_algorithms=None if self.legacy else WEAK_ALGORITHMS)
        try:
            self._negotiate(transport)
            self._verify_host_key(transport.get_remote_server_key())
            self._authenticate(transport)
            if self.keepalive > 0:
                transport.set_keepalive(self.keepalive)
        except BaseException:
            transport.close()
            raise
        return transport

    def _verify_host_key(self, key: paramiko.PKey) -> None:
        if not self.tofu:
            self._check_host_key(key, may_record=False)
            return
        with _KNOWN_HOSTS_LOCK:  # two runs meeting the same new PBX record it once
            self._check_host_key(key, may_record=True)

    def _check_host_key(self, key: paramiko.PKey, *, may_record: bool) -> None:
        name = known_hosts_name(self.host, self.port)
        offered = f"{key.get_name()} {fingerprint(key)}"
        if self.known_hosts is None:
            raise HostKeyRejected(
                f"no known_hosts file to verify {name} ({offered}); record the PBX's key first")
        hosts = known_hosts_file(self.known_hosts)
        exists = hosts is not None
        recorded = hosts.lookup(name) if hosts is not None else None
        if not recorded:
            if may_record:
                self._record_host_key(name, key)
                return
            where = f"not in {self.known_hosts}" if exists else f"no file {self.known_hosts}"
            raise HostKeyRejected(f"unknown host key for {name} ({offered}); {where}; "
                                  f"record the PBX's key first")
        expected = recorded.get(key.get_name())
        if expected is None or expected.asbytes() != key.asbytes():
            raise HostKeyRejected(
                f"host key for {name} has CHANGED (now {offered}); refusing to connect — "
                f"check with the site before updating {self.known_hosts}")

    def _negotiate(self, transport: paramiko.Transport) -> None:
        try:
            transport.start_client(timeout=self.connect_timeout)
        except (paramiko.SSHException, EOFError, OSError) as err:
            hint = "" if self.legacy else " (old firmware? try legacy=1 for this site)"
            raise ConnectFailed(f"SSH negotiation with {self.display_url} failed: "
                                f"{REDACTOR.scrub(str(err))}{hint}") from None

    def _record_host_key(self, name: str, key: paramiko.PKey) -> None:
        """Trust on first use: append the key OpenSSH-style, and say so loudly."""
        assert self.known_hosts is not None
        line = f"{name} {key.get_name()} {key.get_base64()}\n"
        self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as out:
            out.write(line)
        log.warning("trusting SSH host key on first use", host=name,
                    key=f"{key.get_name()} {fingerprint(key)}", known_hosts=str(self.known_hosts))

    def _authenticate(self, transport: paramiko.Transport) -> None:
        username = self.credentials.username or ""
        secret = self.credentials.password.reveal() if self.credentials.password else ""
        if self.key_file is not None and self._authenticate_key(transport, username, secret):
            return
        try:
            try:
                transport.auth_password(username, secret)
            except paramiko.BadAuthenticationType as err:
                if "keyboard-interactive" not in err.allowed_types:
                    raise
                transport.auth_interactive(
                    username, lambda _title, _instr, prompts: [secret for _ in prompts])
        except paramiko.AuthenticationException as err:
            raise AuthFailed(
                f"{self.display_url} refused the credentials: {REDACTOR.scrub(str(err))}") \
                from None
        except paramiko.SSHException as err:
            raise ConnectFailed(f"SSH failure on {self.display_url}: {REDACTOR.scrub(str(err))}") \
                from None

    def _authenticate_key(self, transport: paramiko.Transport, username: str,
                          secret: str) -> bool:
        """Public-key authentication; False when the server wants a password as well."""
        assert self.key_file is not None
        key = self._load_key(secret)
        try:
            transport.auth_publickey(username, key)
        except paramiko.AuthenticationException as err:
            if not secret:
                raise AuthFailed(f"{self.display_url} refused the key {self.key_file}: "
                                 f"{REDACTOR.scrub(str(err))}") from None
            log.info("key refused, trying the password", url=self.display_url)
            return False
        except paramiko.SSHException as err:
            raise ConnectFailed(f"SSH failure on {self.display_url}: {REDACTOR.scrub(str(err))}") \
                from None
        return transport.is_authenticated()

    def _load_key(self, secret: str) -> paramiko.PKey:
        """The site's private key; an encrypted one is unlocked with the site password."""
        assert self.key_file is not None
        try:
            try:
                return paramiko.PKey.from_path(self.key_file)
            except (paramiko.PasswordRequiredException, TypeError):  # TypeError: PEM keys
                if not secret:
                    raise
                # cryptography wants bytes although paramiko's signature says str
                return paramiko.PKey.from_path(self.key_file,
                                               secret.encode())  # type: ignore[arg-type]
        except (OSError, paramiko.SSHException, ValueError, TypeError) as err:
            raise AuthFailed(f"cannot use key file {self.key_file}: "
                             f"{REDACTOR.scrub(str(err))}") from None

    def _open_shell(self, transport: paramiko.Transport) -> paramiko.Channel:
        try:
            channel = transport.open_session(timeout=self.connect_timeout)
            request_pty(channel, self.pty, width=self.term_width)
            channel.invoke_shell()
        except (paramiko.SSHException, OSError) as err:
            raise ConnectFailed(f"no shell on {self.display_url}: {err}") from None
        return channel

    def _read(self, max_bytes: int, timeout: float) -> bytes:
        # A channel the PBX has closed may still hold its last words ("BYE"): read them
        # before reporting the drop, so the closed flag is not checked here.
        if self._pending:
            data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
            return data
        channel = self._channel
        if channel is None:
            raise LineDropped(f"SSH session to {self.display_url} is not open")
        channel.settimeout(timeout)
        try:
            data = channel.recv(max_bytes)
        except TimeoutError:
            return b""
        except (OSError, paramiko.SSHException) as err:
            raise LineDropped(f"SSH line to {self.display_url} dropped: {err}") from None
        if not data:
            raise LineDropped(f"the PBX closed the SSH session on {self.display_url}")
        return data

    def _write(self, data: bytes) -> None:
        channel = self._require_channel()
        try:
            channel.sendall(data)
        except (OSError, paramiko.SSHException) as err:
            raise LineDropped(f"SSH line to {self.display_url} dropped: {err}") from None

    def _require_channel(self) -> paramiko.Channel:
        if self._channel is None or self._channel.closed:
            raise LineDropped(f"SSH session to {self.display_url} is not open")
        return self._channel

    def close(self) -> None:
        self._pending = b""
        channel, self._channel = self._channel, None
        transport, self._transport = self._transport, None
        hop, self._hop = self._hop, None
        if channel is not None:
            channel.close()
        if transport is not None:
            transport.close()
        if hop is not None:  # the jump host last: the PBX's session runs inside it
            hop.close()


def from_url(line: LineRequest) -> Transport:
    """``ssh://[user@]host[:port]``: the URL's user wins over the site's username."""
    opts = line.options
    host, port = line.host_port(22)
    known_hosts = opts.path("known_hosts") or line.known_hosts
    pbx_login = opts.flag("pbx_login")
    # Behind a console server a cooked pty echoes every keystroke a second time and
    # rewrites line ends: raw is the default there; a PBX's own SSH keeps paramiko's.
    default_pty = "raw" if pbx_login else "cooked"
    pty = (opts.text("pty", default_pty) or default_pty).lower()
    if pty not in PTY_KINDS:
        raise InputError(f"option pty={pty!r} in {opts.url}: expected one of "
                         f"{', '.join(PTY_KINDS)}")
    return SSHTransport(
        host=host, port=port,
        credentials=Credentials(line.parts.username or line.credentials.username,
                                line.credentials.password),
        known_hosts=known_hosts, connect_timeout=line.connect_timeout,
        key_file=opts.path("key_file"), tofu=opts.flag("tofu"), legacy=opts.flag("legacy"),
        keepalive=opts.integer("keepalive", DEFAULT_KEEPALIVE),
        pbx_login=pbx_login, pty=pty, wake=wake_option(opts),
        via=_jump_host(opts, line, known_hosts))


def _jump_host(opts: LineOptions, line: LineRequest,
               known_hosts: Path | None) -> SSHTransport | None:
    """``via=[ssh://]user@bastion[:22]`` with ``via_key_file``: the bastion's own line."""
    via = opts.text("via")
    key_file = opts.path("via_key_file")
    if not via:
        if key_file is not None:
            raise InputError(f"option via_key_file in {opts.url} needs via=")
        return None
    parts = urlsplit(via if "://" in via else f"ssh://{via}")
    try:
        port = parts.port or 22
    except ValueError:
        raise InputError(f"bad port in via={via!r} in {opts.url}") from None
    if parts.scheme != "ssh" or not parts.hostname or not parts.username \
            or parts.password is not None or parts.query or parts.path not in ("", "/"):
        raise InputError(f"option via={via!r} in {opts.url}: expected ssh://user@host[:port]")
    if key_file is None:
        raise InputError(f"option via in {opts.url} needs via_key_file= (the site's password "
                         f"is the PBX's and is never sent to the jump host)")
    return SSHTransport(host=parts.hostname, port=port,
                        credentials=Credentials(parts.username, None), known_hosts=known_hosts,
                        connect_timeout=line.connect_timeout, key_file=key_file,
                        tofu=opts.flag("tofu"), legacy=opts.flag("legacy"),
                        keepalive=opts.integer("keepalive", DEFAULT_KEEPALIVE))
