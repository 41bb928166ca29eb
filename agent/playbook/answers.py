"""Front-line answers: given in advance (``--answer``, ``--answers FILE``) or asked live.

The questions of the call-out procedure (SLA.md) are asked by ``ask`` steps. An answer
given in advance always wins, so a scripted or scheduled run never waits for a person;
a terminal is asked only when standard input is one, and a missing answer in a
non-interactive run is an error for that step, never a hang.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from agent import yamlsource
from agent.errors import InputError
from agent.line.secrets import Secret
from agent.playbook.expressions import kind_of
from agent.playbook.model import AnswerType

if TYPE_CHECKING:
    from agent.playbook.steps.ask import AskStep

_YES = frozenset({"yes", "y", "true"})
_NO = frozenset({"no", "n", "false"})


class Asker(Protocol):
    """Puts a front-line question to a person; ``None`` when nobody can answer."""

    def ask(self, prompt: str, *, secret: bool) -> str | None: ...

    def say(self, text: str) -> None: ...


class TerminalAsker:
    """Asks at the terminal; secrets are typed without echo (``getpass``)."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 secret_reader: Callable[[str], str] = getpass.getpass) -> None:
        self._in = stdin or sys.stdin
        self._out = stdout or sys.stdout
        self._secret_reader = secret_reader

    def ask(self, prompt: str, *, secret: bool) -> str | None:
        if secret:
            try:
                return self._secret_reader(prompt)
            except EOFError:
                return None
        self._out.write(prompt)
        self._out.flush()
        line = self._in.readline()
        return line.rstrip("\r\n") if line else None

    def say(self, text: str) -> None:
        self._out.write(f"  {text}\n")
        self._out.flush()


def terminal_asker() -> Asker | None:
    """A terminal asker when stdin is a TTY, else None (answers must come in advance).

    Questions go to stderr, so ``--json`` output on stdout stays clean."""
    return TerminalAsker(sys.stdin, sys.stderr) if sys.stdin.isatty() else None


def parse_answer_options(pairs: Iterable[str]) -> dict[str, str]:
    """``key=value`` pairs (``--answer``); the value stays text, read per question type."""
    answers: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--answer {pair!r}: write it as key=value")
        answers[key.strip()] = value
    return answers


def load_answers(path: Path) -> dict[str, Any]:
    """An answers file: a YAML mapping of answer key to a plain value."""
    source = yamlsource.load(path)
    if not isinstance(source.data, Mapping):
        raise InputError(f"the answers file must be a mapping of key: answer, got "
                         f"{kind_of(source.data)}", path=str(path), line=1, column=1)
    for key, value in source.data.items():
        if isinstance(value, (Mapping, list)) or value is None:
            pos = source.where((key,))
            raise InputError(f"answer {key!r} must be a single value, got {kind_of(value)}",
                             path=str(path), line=pos.line, column=pos.column)
    return {str(key): value for key, value in source.data.items()}


def prompt_for(step: AskStep, question: str) -> str:
    if step.type is AnswerType.YES_NO:
        return f"{question} [yes/no] "
    if step.type is AnswerType.CHOICE:
        return f"{question} [{'/'.join(step.choices)}] "
    return f"{question} "


def normalise_answer(step: AskStep, raw: Any) -> tuple[Any, str | None]:
    """(value, None) or (None, what is wrong): yes/no → bool, a choice → its own spelling,
    a secret → ``Secret``."""
    if step.type is AnswerType.YES_NO:
        return _yes_no(raw)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return None, f"expected text, got {kind_of(raw)} (quote it in an answers file)"
    text = str(raw).strip()
    if not text:
        return None, "the answer is empty"
    if step.type is AnswerType.CHOICE:
        return _choice(step.choices, text)
    return (Secret(text) if step.type is AnswerType.SECRET else text), None


def _yes_no(raw: Any) -> tuple[bool | None, str | None]:
    word = ("yes" if raw else "no") if isinstance(raw, bool) else str(raw).strip().lower()
    if word in _YES or word in _NO:
        return word in _YES, None
    return None, f"answer yes or no, not {raw!r}"


def _choice(choices: tuple[str, ...], text: str) -> tuple[str | None, str | None]:
    for choice in choices:
        if choice.casefold() == text.casefold():
            return choice, None
    return None, f"answer one of {', '.join(choices)}, not {text!r}"
