"""``pbxdiag backups list|diff|restore --site X``: a site's programming backup history.

Every backup a run takes (a playbook's ``backup`` step, and the one before every
``--apply`` run) is kept per site under the data dir (agent/backups). ``diff`` says what
changed between two revisions, the clock left out; ``restore`` puts a revision back
through the guarded ``set`` path, showing what it would write unless ``--apply``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agent.commands import add_db_option, add_inventory_option, db_path
from agent.errors import EXIT_OK
from agent.paths import default_data_dir


def register(commands: Any) -> None:
    backups = commands.add_parser("backups", help="a site's programming backups: list, "
                                                  "diff, restore")
    actions = backups.add_subparsers(dest="backups_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the stored backups of a site, oldest first")
    _common(listing)
    listing.set_defaults(handler=_list)
    diff = actions.add_parser("diff", help="what changed between two backups (default: the "
                                           "last two; one REV: from it to the latest)")
    _common(diff)
    diff.add_argument("revisions", nargs="*", metavar="REV",
                      help="revision numbers (1, 2, ...), -1 for the latest, or 'latest'")
    diff.set_defaults(handler=_diff)
    restore = actions.add_parser("restore", help="put a backup back, setting by setting "
                                                 "(check mode unless --apply)")
    _common(restore)
    restore.add_argument("revision", metavar="REV", help="the revision to put back")
    add_inventory_option(restore, help="the inventory YAML file that names the site")
    restore.add_argument("--apply", action="store_true",
                         help="write the settings (default: show what would be written)")
    add_db_option(restore)
    restore.set_defaults(handler=_restore)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, help="site id")
    parser.add_argument("--output", type=Path, default=None,
                        help="the data dir runs and backups are kept in (default: XDG "
                             "data dir; the same as `run --output`)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _data_dir(args: argparse.Namespace) -> Path:
    return args.output if args.output is not None else default_data_dir()


def _list(args: argparse.Namespace) -> int:
    from agent.backups import history_for

    revisions = history_for(_data_dir(args), args.site).revisions()
    if args.json:
        print(json.dumps([r.to_json() for r in revisions], indent=2))
        return EXIT_OK
    if not revisions:
        print(f"no backups of {args.site} yet")
    for r in revisions:
        print(f"r{r.number:<4} {r.taken_at:%Y-%m-%d %H:%M:%S %Z}  {r.lines:>5} lines  "
              f"{r.source:<15} {r.run_id or ''}")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from agent.backups import diff_backups, history_for
    from agent.errors import InputError

    history = history_for(_data_dir(args), args.site)
    specs: list[str] = list(args.revisions)
    if len(specs) > 2:
        raise InputError("backups diff takes at most two revisions")
    if not specs:
        specs = ["-2", "-1"] if len(history.revisions()) > 1 else ["-1", "-1"]
    elif len(specs) == 1:
        specs.append("latest")
    old, new = (history.resolve(spec) for spec in specs)
    vendor = new.vendor or old.vendor or "panasonic"
    diff = diff_backups(history.text(old), history.text(new), vendor)
    if args.json:
        print(json.dumps({"site": args.site, "from": old.number, "to": new.number,
                          "changes": [c.to_json() for c in diff.changes]}, indent=2))
        return EXIT_OK
    print(f"{args.site}: r{old.number} ({old.taken_at:%Y-%m-%d %H:%M}) → r{new.number} "
          f"({new.taken_at:%Y-%m-%d %H:%M}), clock ignored")
    if diff.empty:
        print("  no changes")
    for change in diff.changes:
        print(f"  {change.address}: {change.before if change.before is not None else '(none)'}"
              f" → {change.after if change.after is not None else '(none)'}")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from agent.backups import history_for
    from agent.backups.restore import backup_playbook, plan_restore, restore_playbook
    from agent.diagnose import diagnose
    from agent.inventory import load_inventory
    from agent.playbook import RunOptions
    from agent.reports.summary import render_summary

    site = load_inventory(args.inventory).site(args.site)
    site.check()
    data = _data_dir(args)
    history = history_for(data, site.id)
    revision = history.resolve(args.revision)  # bad input before anything is dialled
    wanted = history.text(revision)
    # The PBX as it is now: a fresh backup (kept in the history like any other).
    now = diagnose(site, backup_playbook(), output_dir=data, db_path=db_path(args))
    current = now.result.facts.get("backup")
    if not isinstance(current, str):
        print(render_summary(now))
        return now.exit_code or 3
    plan = plan_restore(wanted, current, site.vendor)
    for alone in plan.left_alone:
        print(f"left alone: {alone.address}: {alone.reason}")
    if not plan.writes:
        print(f"{site.id}: the PBX already holds backup r{revision.number} "
              "(clock and write-only values aside): nothing to restore")
        return EXIT_OK
    diagnosis = diagnose(site, restore_playbook(plan, revision.number), output_dir=data,
                         db_path=db_path(args), options=RunOptions(apply=args.apply))
    if args.json:
        print(json.dumps(diagnosis.result.to_json(), indent=2, sort_keys=True))
    else:
        print(render_summary(diagnosis))
    return diagnosis.exit_code
