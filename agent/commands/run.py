"""``pbxdiag run PLAYBOOK --site ID --inventory FILE [--apply] [--tags ...] [--answer k=v]``."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import logsetup
from agent.commands import add_db_option, add_inventory_option, db_path, playbook_argument
from agent.errors import InputError
from agent.paths import default_data_dir

if TYPE_CHECKING:
    from agent.playbook import RunOptions
    from agent.tickets.filing import Filing

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
LINE_WAIT = 60.0


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="run a playbook against one site")
    run.add_argument("playbook", type=playbook_argument,
                     help="the playbook: a YAML file, or a shipped playbook's name "
                          "(health-check for playbooks/health-check.yaml)")
    run.add_argument("--site", required=True, help="site id from the inventory")
    add_inventory_option(run, help="the inventory YAML file that names the site")
    run.add_argument("--output", type=Path, default=None,
                     help="where run results go (default: XDG data dir)")
    run.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="show programming changes without making them (the default)")
    mode.add_argument("--apply", action="store_true",
                      help="make the playbook's programming changes (set steps)")
    run.add_argument("--tags", action="append", default=[], metavar="TAG[,TAG]",
                     help="run only steps with one of these tags (repeatable)")
    run.add_argument("--skip-tags", action="append", default=[], metavar="TAG[,TAG]",
                     help="skip steps with one of these tags (repeatable)")
    run.add_argument("--answer", action="append", default=[], metavar="KEY=VALUE",
                     help="answer a front-line question in advance (repeatable)")
    run.add_argument("--answers", type=Path, default=None, metavar="FILE",
                     help="answers to front-line questions, a YAML mapping")
    run.add_argument("--var", action="append", default=[], metavar="KEY=VALUE",
                     help="set a playbook var, overriding the playbook's (repeatable)")
    run.add_argument("--line-wait", type=float, default=LINE_WAIT, metavar="SECONDS",
                     help="how long to wait while a console session or another run holds "
                          f"the site's line (default {LINE_WAIT:g}; then exit 3)")
    add_db_option(run)
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from agent.diagnose import diagnose
    from agent.inventory import load_inventory
    from agent.playbook import load_playbook
    from agent.playbook.preflight import preflight
    from agent.reports.summary import render_summary
    from agent.sitelock import site_line
    from agent.tickets.settings import settings_from_inventory

    playbook = load_playbook(args.playbook)
    inventory = load_inventory(args.inventory)
    site = inventory.site(args.site)
    site.check()  # a bad path URL or credential: bad input, before anything is dialled
    notifications = settings_from_inventory(inventory) if inventory.notifications else None
    options = run_options(args)
    extra_vars = parse_vars(args.var)
    # Tags, answer keys and answers, required vars: the desk's mistakes, before dialling.
    preflight(playbook, options, extra_vars, vendor=site.vendor)
    output = args.output if args.output is not None else default_data_dir()
    logsetup.configure(log_file=output / "pbxdiag.log")
    # One process on a site's line at a time (a console session, another run): wait for it.
    with site_line(output, site.id, who=f"pbxdiag run {args.playbook.name}",
                   wait=args.line_wait):
        diagnosis = diagnose(site, playbook, output_dir=output, db_path=db_path(args),
                             extra_vars=extra_vars, options=options,
                             notifications=notifications)
    result = diagnosis.result
    pack = _pre_visit_pack(args, site, output) if _is_pre_visit(playbook) else None
    if args.json:
        report = {**result.to_json(), **filing_json(diagnosis.filing)}
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(render_summary(diagnosis))
        if pack is not None:
            print(f"  pack:      {pack.html}")
    if result.half_programmed:
        print("pbxdiag: PBX MAY BE HALF-PROGRAMMED — see the failed step before doing "
              "anything else on this site", file=sys.stderr)
    return diagnosis.exit_code


def _is_pre_visit(playbook: Any) -> bool:
    return Path(str(playbook.path or "")).stem == "pre-visit"


def _pre_visit_pack(args: argparse.Namespace, site: Any, output: Path) -> Any:
    """After a pre-visit run is filed, its pack (so it shows the ticket the run opened)."""
    from agent.commands.pack import write_site_pack

    return write_site_pack(site, data_dir=output, db_path=db_path(args))


def filing_json(filing: Filing | None) -> dict[str, Any]:
    """What the register did, as ``fleet --json`` says it: each fault's ticket (reference,
    action, priority, identity, deadlines) and the tickets this run proved cleared."""
    if filing is None:
        return {"tickets": [], "cleared": [], "maintenance": None, "engineer_action": None}
    tickets = []
    for fault, outcome in filing.faults:
        t = outcome.ticket
        action = "opened" if outcome.opened else "upgraded" if outcome.upgraded \
            else "occurrence"
        tickets.append({"ref": t.ref, "action": action, "priority": t.priority,
                        "identity": fault.identity, "state": t.state,
                        "response_due": t.response_due.isoformat(),
                        "parts_due": t.parts_due.isoformat() if t.parts_due else None})
    notice = filing.engineer_action
    return {"tickets": tickets, "cleared": [t.ref for t in filing.cleared],
            "maintenance": filing.maintenance_json(),
            "engineer_action": None if notice is None else
            {"ref": notice.ref, "kind": notice.kind, "detail": notice.detail}}


def run_options(args: argparse.Namespace) -> RunOptions:
    """Apply or check, tags, and answers (file first, then --answer wins); on a terminal
    (and without ``--json``), each path tried and each step shown on stderr as it starts."""
    from agent.playbook import RunOptions, load_answers, parse_answer_options, terminal_asker
    from agent.reports.progress import StepPrinter, shown

    answers: dict[str, Any] = load_answers(args.answers) if args.answers is not None else {}
    answers.update(parse_answer_options(args.answer))
    progress = StepPrinter() if shown(getattr(args, "json", False)) else None
    return RunOptions(apply=args.apply, tags=_words(args.tags), skip_tags=_words(args.skip_tags),
                      answers=answers, asker=terminal_asker(), progress=progress)


def _words(values: list[str]) -> frozenset[str]:
    return frozenset(word.strip() for value in values for word in value.split(",")
                     if word.strip())


def parse_vars(pairs: list[str]) -> dict[str, object]:
    """``key=value``: numbers, true/false and null are typed; everything else is text.

    Deliberately not YAML: ``--var country=NO`` stays the text "NO", not false."""
    parsed: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--var {pair!r}: write it as key=value")
        parsed[key.strip()] = _typed(value)
    return parsed


def _typed(value: str) -> object:
    words: dict[str, object] = {"true": True, "false": False, "null": None}
    if value in words:
        return words[value]
    if _NUMBER.match(value):
        return float(value) if "." in value else int(value)
    return value
