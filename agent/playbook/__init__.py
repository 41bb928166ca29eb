"""Playbooks: YAML model, line-numbered loader, sandboxed expressions and the engine.

Import from here; the submodules are implementation detail.
"""

from agent.playbook.answers import (
    Asker,
    TerminalAsker,
    load_answers,
    normalise_answer,
    parse_answer_options,
    terminal_asker,
)
from agent.playbook.engine import GetterSource, RunOptions, check_options, run_playbook
from agent.playbook.expressions import (
    HELPERS,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    Template,
    compile_expression,
    compile_template,
)
from agent.playbook.loader import PlaybookInvalidError, load_playbook, parse_playbook, schema
from agent.playbook.model import (
    AnswerType,
    AskStep,
    BackupStep,
    CommandStep,
    Expectation,
    GetStep,
    IncludeStep,
    OnFailure,
    Playbook,
    Priority,
    ReadStep,
    SetStep,
    SourceLocation,
    Step,
    WaitStep,
)

__all__ = [
    "HELPERS",
    "AnswerType",
    "AskStep",
    "Asker",
    "BackupStep",
    "CommandStep",
    "Expectation",
    "Expression",
    "ExpressionError",
    "ExpressionSyntaxError",
    "GetStep",
    "GetterSource",
    "IncludeStep",
    "OnFailure",
    "Playbook",
    "PlaybookInvalidError",
    "Priority",
    "ReadStep",
    "RunOptions",
    "SetStep",
    "SourceLocation",
    "Step",
    "Template",
    "TerminalAsker",
    "WaitStep",
    "check_options",
    "compile_expression",
    "compile_template",
    "load_answers",
    "load_playbook",
    "normalise_answer",
    "parse_answer_options",
    "parse_playbook",
    "run_playbook",
    "schema",
    "terminal_asker",
]
