"""``pbxdiag inventory schema`` and ``pbxdiag inventory validate FILE...``: no PBX needed.

The schema is published so editors validate ``sites.yaml`` as they do playbooks; validate
reports every problem of every file as ``file:line:column: message``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent.errors import EXIT_BAD_INPUT, EXIT_OK


def register(commands: Any) -> None:
    inventory = commands.add_parser("inventory", help="check inventories without connecting")
    actions = inventory.add_subparsers(dest="inventory_command", required=True,
                                       metavar="ACTION")
    schema = actions.add_parser("schema", help="print the inventory JSON Schema")
    schema.set_defaults(handler=_schema)
    validate = actions.add_parser("validate", help="report every problem of inventory files")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE",
                          help="inventory files to check")
    validate.add_argument("--json", action="store_true",
                          help="one JSON report: each file, and every problem as {file, "
                               "line, column, message}")
    validate.set_defaults(handler=_validate)


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
