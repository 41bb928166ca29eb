"""``pbxdiag playbook schema`` and ``pbxdiag playbook validate FILE...``: no PBX needed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent.errors import EXIT_BAD_INPUT, EXIT_OK


def register(commands: Any) -> None:
    playbook = commands.add_parser("playbook", help="check playbooks without connecting")
    actions = playbook.add_subparsers(dest="playbook_command", required=True,
                                      metavar="ACTION")
    schema = actions.add_parser("schema", help="print the playbook JSON Schema")
    schema.set_defaults(handler=_schema)
    validate = actions.add_parser("validate", help="validate playbook files (and includes)")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE",
                          help="playbook files to check (their includes are checked too)")
    validate.add_argument("--json", action="store_true",
                          help="one JSON report: each file, and every problem as {file, "
                               "line, column, message}")
    validate.set_defaults(handler=_validate)


def _schema(args: argparse.Namespace) -> int:
    from agent.playbook import schema

    print(json.dumps(schema(), indent=2))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    """Every problem of every file, one ``file:line:column: message`` line each."""
    from agent.commands.problems import located, print_report
    from agent.errors import PlaybookError
    from agent.playbook import PlaybookInvalidError, load_playbook

    files: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for path in args.files:
        try:
            playbook = load_playbook(path)
        except PlaybookInvalidError as err:
            found = list(err.problems)
        except PlaybookError as err:
            found = [err]
        else:
            steps = sum(1 for _ in playbook.walk())
            files.append({"file": str(path), "ok": True, "name": playbook.name,
                          "steps": steps})
            if not args.json:
                print(f"{path}: ok ({playbook.name!r}, {steps} step{'s' * (steps != 1)})")
            continue
        files.append({"file": str(path), "ok": False, "problems": len(found)})
        problems.extend(located(problem, path) for problem in found)
        if not args.json:
            for problem in found:
                print(problem.located(), file=sys.stderr)
    bad = sum(1 for entry in files if not entry["ok"])
    if args.json:
        print_report(files, problems)
    elif bad:
        print(f"{bad} of {len(args.files)} playbook{'s' * (len(args.files) != 1)} invalid",
              file=sys.stderr)
    return EXIT_BAD_INPUT if bad else EXIT_OK
