"""Playbooks: YAML model, line-numbered loader, sandboxed expressions and the engine.

Import from here; the submodules are implementation detail. Each step kind (action) is
one module in ``agent/playbook/steps/`` (see ``kinds.py``).
"""

from agent.playbook.answers import (
    Asker,
    TerminalAsker,
    load_answers,
    normalise_answer,
    parse_answer_options,
    terminal_asker,
)
from agent.playbook.engine import run_playbook
from agent.playbook.expressions import (
    HELPERS,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    Template,
    compile_expression,
    compile_template,
)
from agent.playbook.gates import check_options
from agent.playbook.kinds import StepKind, diagnostic_actions, step_kinds
from agent.playbook.loader import load_playbook, parse_playbook
from agent.playbook.model import (
    AnswerType,
    Expectation,
    OnFailure,
    Playbook,
    Priority,
    SourceLocation,
    Step,
)
from agent.playbook.runtime import GetterSource, Progress, ProgressHook, RunOptions
from agent.playbook.schema import schema
from agent.playbook.source import PlaybookInvalidError
from agent.playbook.steps.ask import AskStep
from agent.playbook.steps.backup import BackupStep
from agent.playbook.steps.command import CommandStep
from agent.playbook.steps.get import GetStep
from agent.playbook.steps.include import IncludeStep
from agent.playbook.steps.read import ReadStep
from agent.playbook.steps.set import SetStep
from agent.playbook.steps.wait import WaitStep

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
    "Progress",
    "ProgressHook",
    "ReadStep",
    "RunOptions",
    "SetStep",
    "SourceLocation",
    "Step",
    "StepKind",
    "Template",
    "TerminalAsker",
    "WaitStep",
    "check_options",
    "compile_expression",
    "compile_template",
    "diagnostic_actions",
    "load_answers",
    "load_playbook",
    "normalise_answer",
    "parse_answer_options",
    "parse_playbook",
    "run_playbook",
    "schema",
    "step_kinds",
    "terminal_asker",
]
