"""``pbxdiag inventory schema`` and ``pbxdiag inventory validate FILE...``: no PBX needed.

The schema is published so editors validate ``sites.yaml`` as they do playbooks; validate
reports every problem of every file as ``file:line:column: message``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agent.errors import EXIT_BAD_INPUT, EXIT_OK


def register(commands: Any) -> None:
    from agent.commands.problems import add_schema_and_validate

    add_schema_and_validate(commands, "inventory", checks="check inventories without "
                            "connecting", validates="report every problem of inventory files",
                            files_help="inventory files to check", schema=_schema,
                            validate=_validate)


def _schema(args: argparse.Namespace) -> int:
    from agent.inventory import SCHEMA

    print(json.dumps(SCHEMA, indent=2))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from agent.commands.problems import located, print_report
    from agent.inventory import inventory_problems, load_inventory

    files: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for path in args.files:
        found = inventory_problems(path)
        if found:
            files.append({"file": str(path), "ok": False, "problems": len(found)})
            problems.extend(located(problem, path) for problem in found)
            if not args.json:
                for problem in found:
                    print(problem.located(), file=sys.stderr)
            continue
        sites = len(load_inventory(path).sites)
        files.append({"file": str(path), "ok": True, "sites": sites})
        if not args.json:
            print(f"{path}: ok ({sites} site{'s' * (sites != 1)})")
    bad = sum(1 for entry in files if not entry["ok"])
    if args.json:
        print_report(files, problems)
    elif bad:
        print(f"{bad} of {len(args.files)} inventor{'ies' if len(args.files) != 1 else 'y'} "
              "invalid", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else EXIT_OK
