"""`pbxdiag schedule JOBFILE`: cron's one command; `apply: true` is the only way it writes."""

from __future__ import annotations

from pathlib import Path

from .conftest import REPO, Site

JOB = """\
name: rename reception
playbook: {playbook}
inventory: inventory.yaml
sites: [acme-bolton]
vars: {{extension: "201", name: Front Desk}}
apply: {apply}
"""


def write_job(site: Site, *, apply: bool) -> Path:
    job = site.workdir / "job.yaml"
    job.write_text(JOB.format(playbook=REPO / "playbooks" / "rename-extension.yaml",
                              apply=str(apply).lower()))
    return job


def schedule(site: Site, job: Path) -> tuple[int, str, str]:
    run = site.pbxdiag("schedule", str(job), "--db", str(site.db), "--output",
                       str(site.output))
    return run.returncode, run.stdout, run.stderr


def test_a_job_without_apply_writes_nothing(healthy_site: Site) -> None:
    before = healthy_site.pbx.extension("201").name
    code, out, err = schedule(healthy_site, write_job(healthy_site, apply=False))
    assert code == 0, out + err
    assert healthy_site.pbx.extension("201").name == before != "Front Desk"


def test_a_job_with_apply_programs_the_pbx(healthy_site: Site) -> None:
    code, out, err = schedule(healthy_site, write_job(healthy_site, apply=True))
    assert code == 0, out + err
    assert "acme-bolton" in out and "passed" in out
    assert healthy_site.pbx.extension("201").name == "Front Desk"


def test_a_bad_job_file_names_its_line(healthy_site: Site) -> None:
    job = write_job(healthy_site, apply=True)
    job.write_text(job.read_text() + "aply: true\n")
    code, _, err = schedule(healthy_site, job)
    assert code == 2
    assert f"{job}:7:1: unknown key 'aply'" in err
