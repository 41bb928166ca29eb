"""The vendor case pack: what Panasonic's or Toshiba's second line asks for, in one zip.

When first line escalates a ticket to the manufacturer, the vendor's support asks for the
same things every time: the model and software version, the error log, the programming
backup, what was already tried and the session transcripts. This gathers them from what
pbxdiag already keeps (nothing is dialled): the ticket and its history from the register,
the PBX's state from the runs on the ticket (``result.json``), the latest backup from the
site's history, the transcripts of the runs and console sessions on the ticket. An
``index.md``/``index.html`` lists every file, and building it is recorded on the ticket.

Every file is scrubbed again with :data:`REDACTOR` on the way into the zip: transcripts
are saved redacted, but a zip leaves the building, so a secret that slipped through
anywhere (an older transcript, a note) is masked here too. The caller registers the
site's credentials with the redactor first (resolving them does).
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.backups import history_for
from agent.line.secrets import REDACTOR
from agent.pack.data import MAX_RESULT_BYTES, latest_result
from agent.tickets import AuditEntry, Occurrence, Register, Ticket
from agent.tickets.storage.location import RegisterLocation

#: Runs on one ticket whose results and transcripts go in (a flapping fault's newest).
MAX_RUNS = 50
#: A transcript bigger than this is cut (its head kept, the cut said): a vendor's
#: support portal takes attachments of a few tens of MB.
MAX_TRANSCRIPT_BYTES = 8 * 1024 * 1024
_TRANSCRIPT_IN_DETAIL = re.compile(r"transcript (\S+)\s*$")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(slots=True)
class CaseFiles:
    """The zip written, and the files in it (the index lists the same)."""

    zip: Path
    members: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Case:
    ticket: Ticket
    occurrences: list[Occurrence]
    audit: list[AuditEntry]
    results: list[dict[str, Any]]  # the ticket's runs, newest first
    facts: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)  # name -> text
    titles: dict[str, str] = field(default_factory=dict)  # name -> what it is


def build_vendor_case(ref: str, *, db_path: RegisterLocation, data_dir: Path, output_dir: Path,
                      now: datetime, who: str) -> CaseFiles:
    """Write ``vendor-case-REF-TIME.zip`` into ``output_dir`` and record it on the ticket."""
    with Register(db_path) as register:
        ticket = register.get(ref)
        case = _Case(ticket, register.occurrences(ref), register.audit(ref), [], {})
    case.results = _ticket_results(data_dir, case.occurrences)
    case.facts = _facts(case.results, latest_result(data_dir, ticket.site_id))
    _add(case, "ticket.md", "the fault ticket: priority, evidence, SLA deadlines",
         _ticket_md(ticket))
    _add(case, "system.md", "model, software version, cards and firmware", _system_md(case))
    _add(case, "error-log.txt", "the error log and active alarms as the PBX printed them",
         _error_log(case.facts))
    _add_backup(case, data_dir)
    _add(case, "tried.md", "what was tried: runs and console sessions on the ticket",
         _tried_md(case))
    _add_transcripts(case)
    _add(case, "index.md", "this list", _index_md(case, now))
    _add(case, "index.html", "this list, as a web page", _index_html(case, now))
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    target = output_dir / f"vendor-case-{_SAFE.sub('_', ref)}-{stamp}.zip"
    _write_zip(target, case.files)
    with Register(db_path) as register:
        register.record_vendor_case(
            ref, f"vendor case pack for {_vendor_name(case)} second line: {target} "
                 f"({len(case.files)} files)", who=who, now=now)
    return CaseFiles(target, sorted(case.files))


def _add(case: _Case, name: str, title: str, text: str) -> None:
    case.files[name] = REDACTOR.scrub(text)
    case.titles[name] = title


def _ticket_results(data_dir: Path, occurrences: list[Occurrence]) -> list[dict[str, Any]]:
    """The result.json of each run on the ticket that is still on disk, newest first."""
    seen: set[str] = set()
    results: list[dict[str, Any]] = []
    for occurrence in sorted(occurrences, key=lambda o: o.seen_at, reverse=True):
        if occurrence.run_id in seen or len(results) >= MAX_RUNS:
            continue
        seen.add(occurrence.run_id)
        path = data_dir / "runs" / _SAFE.sub("_", occurrence.run_id) / "result.json"
        if path.is_file() and path.stat().st_size <= MAX_RESULT_BYTES:
            results.append(json.loads(path.read_text(encoding="utf-8")))
    return results


def _facts(results: list[dict[str, Any]], latest: dict[str, Any] | None) -> dict[str, Any]:
    """Each getter's answer from the newest run on the ticket that read it, else from the
    site's latest run that read its cards."""
    facts: dict[str, Any] = {}
    for result in [*results, latest or {}]:
        for key, value in (result.get("facts") or {}).items():
            if value not in (None, [], {}):
                facts.setdefault(key, value)
    return facts


def _vendor_name(case: _Case) -> str:
    vendor = str((case.facts.get("system_info") or {}).get("vendor") or
                 next((r.get("vendor") for r in case.results if r.get("vendor")), ""))
    return vendor.capitalize() or "the manufacturer's"


# --- the files ------------------------------------------------------------------------


def _ticket_md(t: Ticket) -> str:
    lines = [f"# {t.ref}: {t.title}", "",
             f"- customer: {t.customer}", f"- site: {t.site_id}",
             f"- priority: {t.priority} ({t.fault_class}), rule {t.rule}",
             f"- state: {t.state}", f"- opened: {t.opened_at.isoformat()}",
             f"- seen: {t.occurrences} time(s), last {t.last_seen.isoformat()}",
             f"- response due: {t.response_due.isoformat()}",
             f"- parts due: {t.parts_due.isoformat() if t.parts_due else '-'}",
             "", "## Summary", "", t.summary, "", "## Evidence", ""]
    lines += [f"- {line}" for line in t.evidence] or ["- (none recorded)"]
    if t.excerpt:
        lines += ["", "## Console excerpt", "", "```", t.excerpt, "```"]
    return "\n".join(lines) + "\n"


def _system_md(case: _Case) -> str:
    info = case.facts.get("system_info") or {}
    lines = ["# System", "", f"- model: {info.get('model') or 'not read'}",
             f"- software version: {info.get('software_version') or 'not read'}"]
    for key, value in sorted((info.get("details") or {}).items()):
        lines.append(f"- {key}: {value}")
    if info.get("raw"):
        lines += ["", "As the PBX printed it:", "", "```", str(info["raw"]), "```"]
    cards = case.facts.get("cards") or []
    if cards:
        lines += ["", "## Cards", "", "| cabinet | slot | type | model | firmware | status |",
                  "|---|---|---|---|---|---|"]
        for card in cards:
            loc = card.get("location") or {}
            lines.append(f"| {loc.get('cabinet', '')} | {loc.get('slot', '')} | "
                         f"{card.get('type', '')} | {card.get('model_number', '')} | "
                         f"{card.get('firmware', '')} | {card.get('status', '')} |")
    if not info:
        lines += ["", "No run on this ticket read the system information: run "
                      "playbooks/pre-visit.yaml on the site and build the pack again."]
    return "\n".join(lines) + "\n"


def _error_log(facts: dict[str, Any]) -> str:
    parts = []
    for key, title in (("error_log", "Error log"), ("alarms", "Active alarms")):
        entries = facts.get(key) or []
        parts.append(f"== {title} ({len(entries)} entries) ==")
        parts += [_entry_line(entry) for entry in entries]
        parts.append("")
    return "\n".join(parts)


def _entry_line(entry: Any) -> str:
    if isinstance(entry, dict):
        if entry.get("raw"):
            return str(entry["raw"])
        return "  ".join(f"{k}={v}" for k, v in entry.items() if v not in (None, ""))
    return str(entry)


def _add_backup(case: _Case, data_dir: Path) -> None:
    history = history_for(data_dir, case.ticket.site_id)
    revisions = history.revisions()
    if not revisions:
        _add(case, "backup-none.txt", "no configuration backup is stored for the site",
             "No backup of the programming data is stored for this site: run "
             "playbooks/pre-visit.yaml (it takes one) and build the pack again.\n")
        return
    latest = revisions[-1]
    _add(case, f"backup-r{latest.number}.txt",
         f"the configuration backup, revision {latest.number} of "
         f"{latest.taken_at.isoformat(timespec='minutes')} ({latest.source})",
         history.text(latest))


def _tried_md(case: _Case) -> str:
    lines = ["# What was tried", "", "## Runs on the ticket", ""]
    by_run = {r.get("run_id"): r for r in case.results}
    for o in sorted(case.occurrences, key=lambda o: o.seen_at):
        result = by_run.get(o.run_id) or {}
        lines.append(f"- {o.seen_at.isoformat(timespec='seconds')} {o.playbook or 'run'} "
                     f"{o.run_id}: {o.kind}, status {result.get('status', 'result not kept')}")
        for step in result.get("steps") or []:
            if step.get("status") in ("failed", "error"):
                lines.append(f"  - {step.get('status')}: {step.get('name')}: "
                             f"{step.get('message')}")
    tried = [a for a in case.audit if a.action == "tried_remotely"]
    lines += ["", "## Console sessions and other remote work", ""]
    lines += [f"- {a.at.isoformat(timespec='seconds')} {a.who}: {a.detail}" for a in tried] \
        or ["- none recorded"]
    lines += ["", "## The ticket's history", ""]
    lines += [f"- {a.at.isoformat(timespec='seconds')} {a.who} {a.action}: {a.detail}"
              for a in case.audit]
    return "\n".join(lines) + "\n"


def _add_transcripts(case: _Case) -> None:
    """Each run's and console session's transcript on the ticket, re-scrubbed."""
    sources: list[tuple[str, str, str]] = []
    for result in case.results:
        if result.get("transcript"):
            sources.append((f"run-{result.get('run_id')}.jsonl",
                            f"transcript of run {result.get('run_id')}", result["transcript"]))
    for entry in case.audit:
        match = _TRANSCRIPT_IN_DETAIL.search(entry.detail)
        if entry.action == "tried_remotely" and match:
            path = match.group(1)
            sources.append((f"console-{Path(path).parent.name or 'session'}.jsonl",
                            f"transcript of the console session of "
                            f"{entry.at.isoformat(timespec='minutes')}", path))
    for name, title, path in sources:
        text = _read_capped(Path(path))
        if text is not None:
            _add(case, "transcripts/" + _SAFE.sub("_", name), title, text)


def _read_capped(path: Path) -> str | None:
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        data = handle.read(MAX_TRANSCRIPT_BYTES + 1)
    text = data[:MAX_TRANSCRIPT_BYTES].decode("utf-8", "replace")
    if len(data) > MAX_TRANSCRIPT_BYTES:
        text += f"\n[cut at {MAX_TRANSCRIPT_BYTES} bytes by pbxdiag]\n"
    return text


def _index_md(case: _Case, now: datetime) -> str:
    t = case.ticket
    lines = [f"# Vendor case {t.ref}: {t.title}", "",
             f"For {_vendor_name(case)} second-line support. Site {t.site_id} "
             f"({t.customer}); built {now.isoformat(timespec='minutes')} by pbxdiag. "
             "Passwords are masked as ********.", "", "| file | what it is |", "|---|---|"]
    lines += [f"| {name} | {case.titles[name]} |" for name in sorted(case.titles)]
    return "\n".join(lines) + "\n"


def _index_html(case: _Case, now: datetime) -> str:
    t = case.ticket
    rows = "\n".join(f'<tr><td><a href="{html.escape(name)}">{html.escape(name)}</a></td>'
                     f"<td>{html.escape(case.titles[name])}</td></tr>"
                     for name in sorted(case.titles))
    title = html.escape(f"Vendor case {t.ref}: {t.title}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body><h1>{title}</h1>"
            f"<p>For {html.escape(_vendor_name(case))} second-line support. Site "
            f"{html.escape(t.site_id)} ({html.escape(t.customer)}); built "
            f"{html.escape(now.isoformat(timespec='minutes'))} by pbxdiag. Passwords are "
            f"masked as ********.</p><table><tr><th>file</th><th>what it is</th></tr>"
            f"{rows}</table></body></html>\n")


def _write_zip(target: Path, files: dict[str, str]) -> None:
    """Atomically: a half-written zip is never left where the desk would attach it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".vendor-case-", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                archive.writestr(name, files[name])
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
