"""``pbxdiag playbook schema`` and ``pbxdiag playbook validate FILE...``: no PBX needed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agent.errors import EXIT_BAD_INPUT, EXIT_OK


def register(commands: Any) -> None:
    from agent.commands.problems import add_schema_and_validate

    add_schema_and_validate(commands, "playbook", checks="check playbooks without connecting",
                            validates="validate playbook files (and includes)",
                            files_help="playbook files to check (their includes are checked "
                                       "too)", schema=_schema, validate=_validate)


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
