"""Playbooks: YAML model, line-numbered loader, sandboxed expressions and the engine.

Import from here; the submodules are implementation detail.
"""

from agent.playbook.engine import GetterSource, run_playbook
from agent.playbook.expressions import (
    HELPERS,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    compile_expression,
)
from agent.playbook.loader import PlaybookInvalidError, load_playbook, parse_playbook, schema
from agent.playbook.model import (
    Expectation,
    GetStep,
    OnFailure,
    Playbook,
    Priority,
    SourceLocation,
    Step,
)

__all__ = [
    "HELPERS",
    "Expectation",
    "Expression",
    "ExpressionError",
    "ExpressionSyntaxError",
    "GetStep",
    "GetterSource",
    "OnFailure",
    "Playbook",
    "PlaybookInvalidError",
    "Priority",
    "SourceLocation",
    "Step",
    "compile_expression",
    "load_playbook",
    "parse_playbook",
    "run_playbook",
    "schema",
]
