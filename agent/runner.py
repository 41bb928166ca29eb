"""One site, one playbook: connect by the site's paths in order, run, always record.

Whatever happens — unreachable, wrong password, line dropped mid-check — the run ends
with a RunResult and a transcript on disk and the line released. Nothing half-written:
both files are written atomically.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from agent.console import Console
from agent.errors import ConnectionProblem, InventoryError
from agent.inventory import Site
from agent.playbook import Playbook, run_playbook
from agent.result import PathAttempt, RunResult, RunStatus
from agent.secrets import REDACTOR
from agent.transcript import Transcript
from agent.transports import Credentials, transport_for_url
from agent.transports.base import Transport
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
             extra_vars: dict[str, object] | None = None) -> tuple[RunResult, RunFiles]:
    """Run ``playbook`` against ``site`` and write the result and transcript."""
    started = datetime.now(UTC)
    result = RunResult(run_id=new_run_id(site.id, started), site=site.id,
                       playbook=playbook.name, started_at=started)
    files = run_files(output_dir, result.run_id)
    transcript = Transcript()
    driver_cls = driver_class(site.vendor)
    bound = log.bind(site=site.id, run_id=result.run_id)
    try:
        credentials = site.credentials.resolve()
    except InventoryError as err:
        return _finish_unreachable(result, files, transcript, str(err))
    transport = _connect(site, credentials, result)
    if transport is None:
        reasons = "; ".join(f"{a.url}: {a.error}" for a in result.paths_tried)
        return _finish_unreachable(result, files, transcript, f"no path reached the PBX: "
                                   f"{reasons}")
    driver = driver_cls(Console(transport, driver_cls.dialect, transcript=transcript,
                                timeout=site.timeout))
    try:
        _drive(driver, credentials, playbook, result, extra_vars=extra_vars, bound=bound)
    finally:
        driver.close_session()
        transport.close()
        result.bytes_in, result.bytes_out = transport.bytes_in, transport.bytes_out
    return _finish(result, files, transcript)


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


def _drive(driver: Driver, credentials: Credentials, playbook: Playbook, result: RunResult, *,
           extra_vars: dict[str, object] | None, bound: structlog.stdlib.BoundLogger) -> None:
    try:
        driver.open_session(credentials)
    except ConnectionProblem as err:
        result.status = RunStatus.UNREACHABLE
        result.error = REDACTOR.scrub(f"{type(err).__name__}: {err}")
        bound.warning("login failed", error=result.error)
        return
    try:
        run_playbook(playbook, driver, result, extra_vars=extra_vars)
    except ConnectionProblem as err:
        result.status = RunStatus.ERROR
        result.error = REDACTOR.scrub(f"{type(err).__name__}: {err}")
        bound.warning("run interrupted", error=result.error)


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
