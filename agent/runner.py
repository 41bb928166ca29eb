"""One site, one playbook: connect by the site's paths in order, run, always record.

Whatever happens — unreachable, wrong password, line dropped mid-check — the run ends
with a RunResult and a transcript on disk and the line released. Nothing half-written:
both files are written atomically.

A run is built in one direction: the runner resolves the site's line and hands the
engine a driver; the engine only runs steps. The line is dialled when the first step
needs the PBX, not before (the engine gets an :class:`OnFirstUse` handle): front-line
questions at the start of a triage playbook are answered while no customer line is held
(a modem call costs the customer's line for every second a person spends typing). What
the dialling found — the path used, the paths tried, the bytes — the runner records.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, cast

import structlog

from agent.contracts import contract_for
from agent.errors import (
    AuthFailed,
    CommandTimeout,
    ConnectFailed,
    ConnectionProblem,
    InventoryError,
    LineDropped,
)
from agent.inventory import Site
from agent.line.console import Console
from agent.line.secrets import REDACTOR
from agent.line.transcript import Transcript
from agent.line.transports import Credentials, transport_for_url
from agent.line.transports.base import Transport
from agent.playbook import Playbook, Progress, ProgressHook, RunOptions, run_playbook
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
             options: RunOptions | None = None,
             run_id: str | None = None,
             hop: PathHop | None = None) -> tuple[RunResult, RunFiles]:
    """Run ``playbook`` against ``site`` and write the result and transcript.

    Without ``options`` the run is read-only (check mode for any programming change).
    ``run_id`` is given when the caller recorded the run's start under it. ``hop`` limits
    the run to some of the site's paths (a Celery worker tries its own pool's paths; the
    attempts made elsewhere come with it, so the result lists every path tried)."""
    started = datetime.now(UTC)
    result = RunResult(run_id=run_id or new_run_id(site.id, started), site=site.id,
                       playbook=playbook.name, started_at=started, vendor=site.vendor)
    files = run_files(output_dir, result.run_id)
    transcript = Transcript()
    bound = log.bind(site=site.id, run_id=result.run_id)
    try:
        credentials = site.credentials.resolve()
    except InventoryError as err:
        return _finish_unreachable(result, files, transcript, str(err))
    options = with_site_clock(options or RunOptions(), site)
    line = SiteLine(site, credentials, driver_class(site.vendor), transcript,
                    progress=options.progress, hop=hop)
    interrupted = False
    try:
        run_playbook(playbook, line.on_first_use(), result, extra_vars=extra_vars,
                     options=options)
    except KeyboardInterrupt:
        # Ctrl-C: what was done is still recorded (transcript and result, redacted), the
        # line is still released, and then the interruption goes on up (exit 130).
        interrupted = True
        result.status = RunStatus.ERROR
        result.interrupted = True
        result.error = "interrupted: the run was stopped part-way; nothing filed"
        bound.warning("run interrupted by the user")
    except ConnectionProblem as err:
        if isinstance(line.state, Unreachable):
            result.status = RunStatus.UNREACHABLE
            result.error = REDACTOR.scrub(line.state.reason)
            bound.warning("unreachable", error=result.error)
        else:
            result.status = RunStatus.ERROR
            result.error = REDACTOR.scrub(f"{type(err).__name__}: {err}")
            bound.warning("run interrupted", error=result.error)
    finally:
        try:
            line.close()
        finally:
            line.record(result)
    finished = _finish(result, files, transcript)
    if interrupted:
        raise RunInterrupted(files.result)
    return finished


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, raised again once the run is recorded: it says where."""

    def __init__(self, result_path: Path) -> None:
        super().__init__(f"interrupted; what was done is recorded in {result_path}")
        self.result_path = result_path


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
    calendar = contract_for(site).calendar
    window = calendar.window(now.astimezone(calendar.zone).date())
    return window is not None and window[0] <= now < window[1], calendar.zone


# --- the line: dialled once, its outcome a typed value ------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    """A logged-in console on one path."""

    driver: Driver


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No path reached the PBX, or it refused the login: the run never got a console."""

    reason: str


#: What dialling gave: not yet tried (None), a console, or why there is none.
LineState = Connected | Unreachable | None


@dataclass(frozen=True, slots=True)
class PathHop:
    """Part of a run: the paths ``paths`` of the site, after ``earlier`` attempts made by
    another worker, within what is ``reach_left`` of the site's reach_timeout."""

    paths: range
    earlier: Sequence[PathAttempt] = ()
    reach_left: float | None = None


class SiteLine:
    """The site's line, dialled once on first use and always released by ``close``."""

    def __init__(self, site: Site, credentials: Credentials, driver_cls: type[Driver],
                 transcript: Transcript, progress: ProgressHook | None = None, *,
                 hop: PathHop | None = None) -> None:
        self.site = site
        self.hop = hop or PathHop(range(len(site.paths)))
        self.progress = progress
        self.credentials = credentials
        self.driver_cls = driver_cls
        self.transcript = transcript
        self.state: LineState = None
        self.paths_tried: list[PathAttempt] = []
        self._transport: Transport | None = None
        self._driver: Driver | None = None

    def on_first_use(self) -> Driver:
        """The driver the engine runs against: the vendor is known now, the line waits.

        The handle delegates every attribute to the real driver, so it is one (cast)."""
        return cast(Driver, OnFirstUse(self.driver_cls.vendor, self.driver))

    def driver(self) -> Driver:
        """The logged-in driver; dials on the first call, fails the same way after."""
        if self.state is None:
            self.state = self._dial()
        if isinstance(self.state, Unreachable):
            raise ConnectFailed(self.state.reason)
        return self.state.driver

    def _dial(self) -> Connected | Unreachable:
        try:
            found = _open_first_path(self.site, self._login_for, self.paths_tried,
                                     self._session_on, self.transcript,
                                     progress=self.progress, hop=self.hop)
        except AuthFailed as err:  # the PBX said no: the same login elsewhere would too
            return Unreachable(f"{type(err).__name__}: {err}")
        if found is None:
            reasons = "; ".join(f"{a.url}: {a.error}" for a in self.paths_tried)
            return Unreachable(f"no path reached the PBX: {reasons}")
        self._transport, self._driver = found
        return Connected(self._driver)

    def _login_for(self, index: int) -> Credentials:
        """Path ``index``'s own login when it has one, else the site's (already read)."""
        if self.site.own_credentials(index):
            return self.site.credentials_for(index).resolve()
        return self.credentials

    def _session_on(self, transport: Transport, credentials: Credentials) -> Driver:
        """The PBX session on an open line: the driver logged in (or ConnectionProblem)."""
        driver = self.driver_cls(Console(transport, self.driver_cls.dialect,
                                         transcript=self.transcript, timeout=self.site.timeout))
        driver.open_session(credentials)
        return driver

    def close(self) -> None:
        """Log out (safe on a half-open session) and hang up."""
        if self._transport is None:
            return
        try:
            if self._driver is not None:
                self._driver.close_session()
        finally:
            self._transport.close()

    def record(self, result: RunResult) -> None:
        """The runner's part of the RunResult: the paths tried, the one used, the bytes."""
        result.paths_tried.extend([*self.hop.earlier, *self.paths_tried])
        result.path = next((a.url for a in self.paths_tried if not a.error), None)
        if result.pbx_dead:
            log.warning("pbx silent on every path", site=self.site.id,
                        paths=[a.url for a in self.paths_tried])
        if self._transport is not None:
            result.bytes_in = self._transport.bytes_in
            result.bytes_out = self._transport.bytes_out


class OnFirstUse:
    """A driver handle whose only job is to dial on first use, then delegate to the driver.

    ``vendor`` is the driver class's, known without dialling (the engine skips another
    vendor's steps before any line is held); every other attribute is the real driver's.
    """

    def __init__(self, vendor: str, dial: Callable[[], Driver]) -> None:
        self.vendor = vendor
        self._dial = dial

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dial(), name)


def _open_first_path(site: Site, login_for: Callable[[int], Credentials],
                     tried: list[PathAttempt],
                     session_on: Callable[[Transport, Credentials], Driver],
                     transcript: Transcript, *, progress: ProgressHook | None = None,
                     hop: PathHop | None = None) -> tuple[Transport, Driver] | None:
    """Try each path in order (LAN first, modem last) until one gives a PBX session.

    A path is no good when the line cannot be opened *or* the session cannot be
    established on it — a terminal server accepts the TCP connection before its device
    works, so a login that drops or times out falls through to the next path as well.
    Why each path failed is noted, with whether the line reached the site and whether the
    PBX then said nothing at all (the evidence for ``pbx-dead``). A login the PBX refused
    (``AuthFailed``) stops — the next path reaches the same PBX with the same login —
    unless the next path has a login of its own (its ``credentials`` in the inventory).

    All of it happens within the site's ``reach_timeout``: a path not started by then is
    recorded as not tried, and a modem stops redialling at it. A ``hop`` narrows this to
    some paths and what is left of the reach time (a Celery worker's share of the run)."""
    hop = hop or PathHop(range(len(site.paths)))
    reach = site.reach_timeout if hop.reach_left is None else hop.reach_left
    reach_by = time.monotonic() + reach
    for index in hop.paths:
        url = site.paths[index]
        remaining = reach_by - time.monotonic()
        if remaining <= 0:
            tried.append(PathAttempt(_shown(url), f"not tried: the site's {site.reach_timeout:g}"
                                     " s for reaching the PBX were spent"))
            continue
        credentials = login_for(index)
        transport = transport_for_url(url, credentials=credentials,
                                      known_hosts=site.known_hosts,
                                      connect_timeout=min(site.timeout, remaining))
        transport.reach_by = reach_by
        log.info("trying path", site=site.id, url=transport.display_url)
        if progress is not None:
            progress(Progress("path", transport.display_url, site.id))
        reached = False
        try:
            transport.open()
            reached = True
            heard, said = transcript.bytes_received, transcript.bytes_sent
            driver = session_on(transport, credentials)
        except AuthFailed as err:
            tried.append(PathAttempt(transport.display_url, f"{type(err).__name__}: {err}",
                                     reached=reached))
            transport.close()
            if site.own_credentials(index + 1):
                log.warning("login refused; the next path has its own", site=site.id,
                            url=transport.display_url)
                continue
            raise
        except ConnectionProblem as err:
            transport.close()
            error = f"{type(err).__name__}: {err}"
            silent = reached and transcript.bytes_received == heard and (
                isinstance(err, LineDropped)  # it hung up without a word
                # a timeout is silence only if we spoke first: an idle console may be
                # waiting for a key (a terminal server without ``wake``)
                or (isinstance(err, CommandTimeout) and transcript.bytes_sent > said))
            tried.append(PathAttempt(transport.display_url, error, reached=reached,
                                     pbx_silent=silent))
            log.warning("path failed", site=site.id, url=transport.display_url, error=error)
            continue
        except BaseException:
            transport.close()
            raise
        tried.append(PathAttempt(transport.display_url, reached=True))
        return transport, driver
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


def _shown(url: str) -> str:
    """A path's URL as results show it, when no transport was built for it."""
    return REDACTOR.scrub(url.split("?", 1)[0])
