"""The support desk's one action: run a playbook on a site and file what it found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.inventory import Site
from agent.playbook import Playbook
from agent.result import RunResult
from agent.runner import RunFiles, run_site
from agent.tickets import Register
from agent.tickets.filing import Filing, file_run


@dataclass(frozen=True, slots=True)
class Diagnosis:
    site: Site
    result: RunResult
    files: RunFiles
    filing: Filing


def diagnose(site: Site, playbook: Playbook, *, output_dir: Path, db_path: Path,
             extra_vars: dict[str, object] | None = None) -> Diagnosis:
    result, files = run_site(site, playbook, output_dir=output_dir, extra_vars=extra_vars)
    with Register(db_path) as register:
        filing = file_run(register, site, result)
    return Diagnosis(site=site, result=result, files=files, filing=filing)
