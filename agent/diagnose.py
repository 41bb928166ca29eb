"""The support desk's one action: run a playbook on a site and file what it found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.backups import store_run_backups
from agent.inventory import Site
from agent.playbook import Playbook, RunOptions
from agent.playbook.steps.backup import backup_before_changes
from agent.result import RunResult
from agent.runner import RunFiles, run_site
from agent.tickets import Register
from agent.tickets.filing import Filing, file_run
from agent.tickets.flush import FlushReport, flush_outbox
from agent.tickets.settings import NotificationSettings
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


def diagnose(site: Site, playbook: Playbook, *, output_dir: Path, db_path: Path,
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
    result, files = run_site(site, backup_before_changes(playbook, apply),
                             output_dir=output_dir, extra_vars=extra_vars, options=options)
    store_run_backups(output_dir, result)  # before filing: the pack reads the history
    with Register(db_path) as register:
        filing = file_run(register, site, result)
        notified = flush_outbox(register, notifications) if notifications else None
    return Diagnosis(site=site, result=result, files=files, filing=filing, notified=notified)
