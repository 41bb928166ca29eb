"""One site's SMDR port, kept open: connect, log in, read, and reconnect with back-off.

Every wait has a deadline and every wait is on an event (the stop event, or the line's
own read timeout), never a sleep: SIGTERM ends a collector within one read slice. The
back-off doubles from ``FIRST_DELAY`` up to the site's ``reconnect_max_seconds`` and
starts again after a connection that streamed. A refused login (the SMDR password is
wrong) is our own mistake: it is logged as such and retried only at the longest delay,
so a wrong password never hammers the PBX. Nothing here files or stores: ``SiteIngest``
does, with what ``lines`` hands it.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Final
from urllib.parse import urlsplit

import structlog

from agent.inventory import Site
from agent.line.errors import ConnectionProblem, InputError, PbxdiagError
from agent.line.secrets import Secret
from agent.line.transports import transport_for_url
from agent.line.transports.base import Credentials, Transport
from agent.smdr.ingest import SiteIngest
from agent.smdr.lines import LineSplitter
from agent.smdr.settings import SmdrLink

log = structlog.get_logger(__name__)

FIRST_DELAY: Final = 1.0
READ_SLICE: Final = 0.5  # seconds per read: how soon a stop request is seen
QUIET: Final = 1.0  # no byte for this long: the line is quiet, held items are decided
PROMPT_GRACE: Final = 2.0  # seconds to wait for the "-" prompt before logging in anyway
PROMPT_MAX: Final = 4096  # bytes of banner/prompt read while waiting for a prompt


def open_link(link: SmdrLink, password: Secret | None) -> Transport:
    """The link's transport, built (not opened). No wake key unless the URL asks for one:
    a CR sent into an SMDR port's login prompt would be read as an empty login."""
    wake: dict[str, Any] = {} if "wake=" in urlsplit(link.url).query else {"wake": ""}
    return transport_for_url(link.url, credentials=Credentials(None, password),
                             connect_timeout=link.timeout, **wake)


class LoginRefused(PbxdiagError):
    """The SMDR port said LOGIN INCORRECT: the inventory's login or password is wrong."""


class Collector:
    """The loop of one site; ``run`` returns when ``stop`` is set."""

    def __init__(self, site: Site, link: SmdrLink, ingest: SiteIngest,
                 stop: threading.Event) -> None:
        self.site, self.link, self.ingest, self.stop = site, link, ingest, stop
        self.connections = 0

    def run(self) -> None:
        delay = FIRST_DELAY
        while not self.stop.is_set():
            streamed = False
            try:
                streamed = self._session()
            except LoginRefused as err:
                log.error("smdr.login_refused", site=self.site.id, error=str(err))
                delay = self.link.reconnect_max_s
            except InputError as err:
                log.error("smdr.bad_input", site=self.site.id, error=err.message)
                delay = self.link.reconnect_max_s
            except (ConnectionProblem, OSError) as err:
                log.warning("smdr.line", site=self.site.id, error=str(err) or type(err).__name__)
            finally:
                self.ingest.end()
            if self.stop.is_set():
                break
            delay = FIRST_DELAY if streamed else min(delay * 2, self.link.reconnect_max_s)
            log.info("smdr.reconnect", site=self.site.id, in_seconds=delay)
            self.stop.wait(delay)

    def _session(self) -> bool:
        """One connection; True if it got as far as streaming."""
        password = self.link.password.resolve(InputError)
        transport = open_link(self.link, password)
        try:
            transport.open()
            splitter = LineSplitter()
            if self.link.logs_in:
                self._login(transport, splitter, password.reveal() if password else "")
            self.connections += 1
            self.ingest.begin()
            log.info("smdr.streaming", site=self.site.id, url=transport.display_url,
                     connection=self.ingest.connection)
            self._stream(transport, splitter)
            return True
        finally:
            transport.close()

    def _login(self, transport: Transport, splitter: LineSplitter, password: str) -> None:
        # pyserial's socket:// empties its input on open, so on a fast port the banner and
        # its "-" prompt may be gone before the first read: after a short grace the login
        # is sent unprompted (the port reads it as the answer to the prompt it printed).
        self._expect(transport, splitter, ("-",), within=min(PROMPT_GRACE, self.link.timeout),
                     required=False)
        transport.write(self.link.login.encode("ascii", "replace") + b"\r\n")
        self._expect(transport, splitter, ("Password:",))
        transport.write(password.encode("latin-1", "replace") + b"\r\n")
        splitter.reset()

    def _expect(self, transport: Transport, splitter: LineSplitter, prompts: tuple[str, ...],
                *, within: float | None = None, required: bool = True) -> None:
        """Read until the incomplete last line ends with a prompt, within the deadline."""
        deadline = time.monotonic() + (self.link.timeout if within is None else within)
        seen = 0
        while not self.stop.is_set():
            if any(splitter.pending.rstrip().endswith(p) for p in prompts):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not required:
                return
            if remaining <= 0 or seen > PROMPT_MAX:
                raise ConnectionProblem(f"no SMDR prompt {prompts[0]!r} within "
                                        f"{self.link.timeout:g} s")
            data = transport.read(1024, min(remaining, READ_SLICE))
            seen += len(data)
            if any("LOGIN INCORRECT" in line for line in splitter.feed(data)):
                raise LoginRefused("the SMDR port refused the login")
        raise ConnectionProblem("stopping")

    def _stream(self, transport: Transport, splitter: LineSplitter) -> None:
        last_data = time.monotonic()
        quiet_done = False
        while not self.stop.is_set():
            data = transport.read(65536, READ_SLICE)
            if data:
                last_data, quiet_done = time.monotonic(), False
                self.ingest.lines(splitter.feed(data))
            elif not quiet_done and time.monotonic() - last_data >= QUIET:
                quiet_done = True
                self.ingest.lines(splitter.feed(b""), quiet=True)
