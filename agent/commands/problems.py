"""The ``--json`` report of the ``validate`` commands: one document, every problem located.

``playbook validate`` and ``inventory validate`` print the same shape so an editor plug-in
or a CI step reads both alike: ``{"ok": ..., "files": [...], "problems": [{"file", "line",
"column", "message"}]}``. Exit codes are the text mode's (0 all valid, 2 otherwise).
"""

from __future__ import annotations

import json
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
