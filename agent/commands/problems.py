"""The ``--json`` report of the ``validate`` commands: one document, every problem located.

``playbook validate`` and ``inventory validate`` print the same shape so an editor plug-in
or a CI step reads both alike: ``{"ok": ..., "files": [...], "problems": [{"file", "line",
"column", "message"}]}``. Exit codes are the text mode's (0 all valid, 2 otherwise).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.line.secrets import REDACTOR


def located(problem: InputError, file: Path) -> dict[str, Any]:
    """A problem as JSON; one with no position of its own is the whole file's."""
    return {"file": problem.path if problem.path is not None else str(file),
            "line": problem.line, "column": problem.column,
            "message": REDACTOR.scrub(problem.message)}


def print_report(files: list[dict[str, Any]], problems: list[dict[str, Any]]) -> None:
    print(json.dumps({"ok": not problems and all(entry["ok"] for entry in files),
                      "files": files, "problems": problems}, indent=2))


Handler = Callable[[argparse.Namespace], int]


def add_schema_and_validate(commands: Any, kind: str, *, checks: str, validates: str,
                            files_help: str, schema: Handler, validate: Handler) -> None:
    """``pbxdiag KIND schema`` and ``pbxdiag KIND validate FILE... [--json]``: the same two
    actions, with the same options, for each kind of file a user writes."""
    parser = commands.add_parser(kind, help=checks)
    actions = parser.add_subparsers(dest=f"{kind}_command", required=True, metavar="ACTION")
    actions.add_parser("schema", help=f"print the {kind} JSON Schema").set_defaults(
        handler=schema)
    check = actions.add_parser("validate", help=validates)
    check.add_argument("files", nargs="+", type=Path, metavar="FILE", help=files_help)
    check.add_argument("--json", action="store_true",
                       help="one JSON report: each file, and every problem as {file, line, "
                            "column, message}")
    check.set_defaults(handler=validate)
