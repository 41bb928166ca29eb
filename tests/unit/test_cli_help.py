"""Every command and every argument has help text (issue 19): `pbxdiag X --help` is the
first documentation a user reads."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from agent.cli import build_parser


def walk(parser: argparse.ArgumentParser, path: str = "pbxdiag"
         ) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{path} {name}", argparse.Action([name], name, help=helps.get(name))
                yield from walk(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def missing_help() -> list[str]:
    return [f"{path}: {action.option_strings or action.dest}"
            for path, action in walk(build_parser())
            if not action.help or action.help == argparse.SUPPRESS]


def test_every_command_and_argument_has_help_text() -> None:
    assert missing_help() == []
