"""The support desk's one action: run a playbook on a site and file what it found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.backups import store_run_backups
from agent.inventory import Site
from agent.playbook import Playbook, RunOptions
from agent.playbook.steps.backup import backup_before_changes
from agent.result import RunResult
from agent.runner import RunFiles, new_run_id, run_site
from agent.tickets import Register
from agent.tickets.filing import Filing, file_run
from agent.tickets.flush import FlushReport, flush_outbox
from agent.tickets.settings import NotificationSettings
from agent.tickets.storage.location import RegisterLocation
from agent.tickets.storage.runs import RunLog
from agent.verdict import run_exit_code


@dataclass(frozen=True, slots=True)
class Diagnosis:
    site: Site
    result: RunResult
    files: RunFiles
    filing: Filing
    notified: FlushReport | None = None

    @property
    def exit_code(self) -> int:
        return run_exit_code(self.result, self.filing)


def diagnose(site: Site, playbook: Playbook, *, output_dir: Path, db_path: RegisterLocation,
             extra_vars: dict[str, object] | None = None,
             options: RunOptions | None = None,
             notifications: NotificationSettings | None = None) -> Diagnosis:
    """Run, file, and send what the filing queued (when notifications are configured).

    ``options`` default to a read-only run (changes only shown); an ``--apply`` run of a
    playbook with changes takes a backup first, and every backup the run took is kept in
    the site's backup history (agent/backups). Sending happens after the
    ticket change is committed; what cannot be sent now stays in the outbox for
    ``pbxdiag tickets outbox flush`` — a run never fails because a mail server is down.
    """
    apply = options is not None and options.apply
    run_id = new_run_id(site.id, datetime.now(UTC))
    with RunLog(db_path) as runs:  # on the board from its start
        runs.started(run_id=run_id, site_id=site.id, playbook=playbook.name,
                     at=datetime.now(UTC))
    result, files = run_site(site, backup_before_changes(playbook, apply),
                             output_dir=output_dir, extra_vars=extra_vars, options=options,
                             run_id=run_id)
    store_run_backups(output_dir, result)  # before filing: the pack reads the history
    with Register(db_path) as register:
        filing = file_run(register, site, result)
        notified = flush_outbox(register, notifications) if notifications else None
    with RunLog(db_path) as runs:
        record_finish(runs, result, run_exit_code(result, filing))
    return Diagnosis(site=site, result=result, files=files, filing=filing, notified=notified)


def record_finish(runs: RunLog, result: RunResult, exit_code: int) -> None:
    """How the run ended, on its row of the runs table."""
    runs.finished(run_id=result.run_id, at=result.finished_at or datetime.now(UTC),
                  status=result.status.value, exit_code=exit_code, path=result.path)
