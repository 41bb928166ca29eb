"""One site, one playbook: connect by the site's paths in order, run, always record.

Whatever happens — unreachable, wrong password, line dropped mid-check — the run ends
with a RunResult and a transcript on disk and the line released. Nothing half-written:
both files are written atomically.

The line is opened when the first step needs the PBX, not before: front-line questions
at the start of a triage playbook are answered while no customer line is held (a modem
call costs the customer's line for every second a person spends typing).
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import structlog

from agent.errors import ConnectionProblem, InventoryError
from agent.inventory import Site
from agent.line.console import Console
from agent.line.secrets import REDACTOR
from agent.line.transcript import Transcript
from agent.line.transports import Credentials, transport_for_url
from agent.line.transports.base import Transport
from agent.playbook import Playbook, RunOptions, run_playbook
from agent.result import PathAttempt, RunResult, RunStatus
from drivers import driver_class
from drivers.base import Driver

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RunFiles:
    result: Path
    transcript: Path


def new_run_id(site_id: str, now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{site_id}-{secrets.token_hex(3)}"


def run_files(output_dir: Path, run_id: str) -> RunFiles:
    folder = output_dir / "runs" / run_id
    return RunFiles(result=folder / "result.json", transcript=folder / "transcript.jsonl")


def run_site(site: Site, playbook: Playbook, *, output_dir: Path,
             extra_vars: dict[str, object] | None = None,
             options: RunOptions | None = None) -> tuple[RunResult, RunFiles]:
    """Run ``playbook`` against ``site`` and write the result and transcript.

    Without ``options`` the run is read-only (check mode for any programming change)."""
    started = datetime.now(UTC)
    result = RunResult(run_id=new_run_id(site.id, started), site=site.id,
                       playbook=playbook.name, started_at=started, vendor=site.vendor)
    files = run_files(output_dir, result.run_id)
    transcript = Transcript()
    driver_cls = driver_class(site.vendor)
    bound = log.bind(site=site.id, run_id=result.run_id)
    try:
        credentials = site.credentials.resolve()
    except InventoryError as err:
        return _finish_unreachable(result, files, transcript, str(err))
    line = _Line(site, credentials, driver_cls, result, transcript)
    try:
        run_playbook(playbook, _LazyDriver(line), result, extra_vars=extra_vars,
                     options=with_site_clock(options or RunOptions(), site))
    except _Unreachable as err:
        result.status = RunStatus.UNREACHABLE
        result.error = REDACTOR.scrub(str(err))
        bound.warning("unreachable", error=result.error)
    except ConnectionProblem as err:
        result.status = RunStatus.ERROR
        result.error = REDACTOR.scrub(f"{type(err).__name__}: {err}")
        bound.warning("run interrupted", error=result.error)
    finally:
        line.close()
    return _finish(result, files, transcript)


def with_site_clock(options: RunOptions, site: Site) -> RunOptions:
    """Fill in the site's time zone and whether it is working hours there, from its contract
    calendar (expressions see them as ``now`` and ``in_working_hours``)."""
    if options.timezone is not None and options.in_working_hours is not None:
        return options
    working, zone = site_clock(site, datetime.now(UTC))
    return dataclasses.replace(
        options,
        timezone=options.timezone or zone,
        in_working_hours=working if options.in_working_hours is None
        else options.in_working_hours)


def site_clock(site: Site, now: datetime) -> tuple[bool, tzinfo]:
    """(in working hours at ``now``?, the site's time zone) per its contract calendar."""
    from agent.tickets.filing import contract_for

    calendar = contract_for(site).calendar
    window = calendar.window(now.astimezone(calendar.zone).date())
    return window is not None and window[0] <= now < window[1], calendar.zone


class _Unreachable(ConnectionProblem):
    """No path reached the PBX, or it refused the login: the run never got a console."""


class _Line:
    """The site's line, opened once on first use and always released by ``close``."""

    def __init__(self, site: Site, credentials: Credentials, driver_cls: type[Driver],
                 result: RunResult, transcript: Transcript) -> None:
        self.site = site
        self.credentials = credentials
        self.driver_cls = driver_cls
        self.result = result
        self.transcript = transcript
        self._transport: Transport | None = None
        self._driver: Driver | None = None
        self._ready = False
        self._failed: str | None = None

    def driver(self) -> Driver:
        """The logged-in driver; connects on the first call, fails the same way after."""
        if self._ready and self._driver is not None:
            return self._driver
        if self._failed is not None:
            raise _Unreachable(self._failed)
        transport = _connect(self.site, self.credentials, self.result)
        if transport is None:
            reasons = "; ".join(f"{a.url}: {a.error}" for a in self.result.paths_tried)
            self._failed = f"no path reached the PBX: {reasons}"
            raise _Unreachable(self._failed)
        self._transport = transport
        self._driver = self.driver_cls(Console(transport, self.driver_cls.dialect,
                                               transcript=self.transcript,
                                               timeout=self.site.timeout))
        try:
            self._driver.open_session(self.credentials)
        except ConnectionProblem as err:
            self._failed = f"{type(err).__name__}: {err}"
            raise _Unreachable(self._failed) from None
        self._ready = True
        return self._driver

    def close(self) -> None:
        """Log out (safe on a half-open session), hang up, and count the bytes."""
        if self._transport is None:
            return
        try:
            if self._driver is not None:
                self._driver.close_session()
        finally:
            self._transport.close()
            self.result.bytes_in = self._transport.bytes_in
            self.result.bytes_out = self._transport.bytes_out


class _LazyDriver:
    """The driver as the engine sees it: the vendor is known at once, the line waits."""

    def __init__(self, line: _Line) -> None:
        self._line = line

    @property
    def vendor(self) -> str:
        return self._line.driver_cls.vendor

    def get(self, getter: str, **params: Any) -> Any:
        return self._line.driver().get(getter, **params)

    def run_command(self, command: str) -> str:
        return self._line.driver().run_command(command)

    def read_setting(self, key: str, target: str | None = None) -> str | None:
        return self._line.driver().read_setting(key, target)

    def write_setting(self, key: str, value: str, target: str | None = None) -> None:
        self._line.driver().write_setting(key, value, target)

    def backup(self) -> str:
        return self._line.driver().backup()


def _connect(site: Site, credentials: Credentials, result: RunResult) -> Transport | None:
    """Try each path in order (LAN first, modem last); record why each one failed."""
    for url in site.paths:
        transport = transport_for_url(url, credentials=credentials,
                                      known_hosts=site.known_hosts,
                                      connect_timeout=site.timeout)
        try:
            transport.open()
        except ConnectionProblem as err:
            result.paths_tried.append(PathAttempt(transport.display_url, str(err)))
            log.warning("path failed", site=site.id, url=transport.display_url, error=str(err))
            continue
        result.paths_tried.append(PathAttempt(transport.display_url))
        result.path = transport.display_url
        return transport
    return None


def _finish_unreachable(result: RunResult, files: RunFiles, transcript: Transcript,
                        reason: str) -> tuple[RunResult, RunFiles]:
    result.status = RunStatus.UNREACHABLE
    result.error = REDACTOR.scrub(reason)
    return _finish(result, files, transcript)


def _finish(result: RunResult, files: RunFiles,
            transcript: Transcript) -> tuple[RunResult, RunFiles]:
    result.finished_at = datetime.now(UTC)
    result.transcript = str(transcript.save(files.transcript))
    result.write(files.result)
    log.info("run finished", site=result.site, run_id=result.run_id, status=result.status.value)
    return result, files
