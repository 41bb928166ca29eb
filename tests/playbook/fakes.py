"""A fake PBX for engine tests: getters from a table, settings in a dict, raw commands.

It can be told to refuse a write, to store something other than what was written (a
verify failure), to fail the restore too, or to drop the line mid-change — so every
branch of a programming change can be checked against the fake's final state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.errors import CommandRejected, LineDropped
from agent.playbook import RunOptions, parse_playbook, run_playbook
from agent.result import RunResult


class FakePbx:
    """Implements ``GetterSource``; ``writes`` and ``calls`` record what reached the PBX."""

    def __init__(self, *, vendor: str = "panasonic", getters: dict[str, Any] | None = None,
                 settings: dict[str, str] | None = None,
                 commands: dict[str, str] | None = None, backup_text: str = "") -> None:
        self._vendor = vendor
        self.getters = dict(getters or {})
        self.settings = dict(settings or {})
        self.commands = dict(commands or {})
        self.backup_text = backup_text
        self.calls: list[tuple[Any, ...]] = []
        self.writes: list[tuple[str, str, str | None]] = []
        self.refuse_writes: set[str] = set()  # values whose write is refused
        self.store_instead: dict[str, str] = {}  # value written → value stored
        self.drop_on_write: str | None = None  # a write of this value loses the line
        self.write_only: set[str] = {"extension_pin"}

    @property
    def vendor(self) -> str:
        return self._vendor

    def get(self, getter: str, **params: Any) -> Any:
        self.calls.append(("get", getter, params))
        answer = self.getters[getter]
        if callable(answer):
            answer = answer()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def run_command(self, command: str) -> str:
        self.calls.append(("command", command))
        answer = self.commands[command]
        if answer.startswith("ERROR"):
            raise CommandRejected(command, answer)
        return answer

    def read_setting(self, key: str, target: str | None = None) -> str | None:
        self.calls.append(("read", key, target))
        if key in self.write_only:
            return None
        return self.settings[_slot(key, target)]

    def write_setting(self, key: str, value: str, target: str | None = None) -> None:
        self.calls.append(("write", key, target))
        if value == self.drop_on_write:
            raise LineDropped("carrier lost")
        if value in self.refuse_writes:
            raise CommandRejected(f"WRITE {key}", "ERROR 02: INVALID PARAMETER")
        self.writes.append((key, value, target))
        self.settings[_slot(key, target)] = self.store_instead.get(value, value)

    def backup(self) -> str:
        self.calls.append(("backup",))
        return self.backup_text


class NoSettingsPbx(FakePbx):
    """A driver that has not implemented programming yet (as ``drivers.base`` says)."""

    def read_setting(self, key: str, target: str | None = None) -> str | None:
        raise NotImplementedError(f"panasonic driver cannot read {key!r} yet")

    def backup(self) -> str:
        raise NotImplementedError("panasonic driver cannot back up yet")


def _slot(key: str, target: str | None) -> str:
    return f"{key}:{target}" if target else key


class ScriptedAsker:
    """Answers questions from a list; records the prompts and what it was told."""

    def __init__(self, *replies: str | None) -> None:
        self.replies = list(replies)
        self.prompts: list[tuple[str, bool]] = []
        self.told: list[str] = []

    def ask(self, prompt: str, *, secret: bool) -> str | None:
        self.prompts.append((prompt, secret))
        return self.replies.pop(0) if self.replies else None

    def say(self, text: str) -> None:
        self.told.append(text)


def new_run() -> RunResult:
    return RunResult(run_id="run-1", site="acme-hq", playbook="test",
                     started_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC), path="ssh://pbx")


def run_text(text: str, pbx: Any, *, path: str | None = None,
             extra_vars: dict[str, Any] | None = None, **options: Any) -> RunResult:
    """Parse a playbook (steps only, or a whole file when it starts with ``name:``) and run."""
    if not text.startswith("name:"):
        text = "name: test\nsteps:\n" + text
    return run_playbook(parse_playbook(text, path=path), pbx, new_run(),
                        extra_vars=extra_vars, options=RunOptions(**options))


def statuses(run: RunResult) -> list[tuple[str, str]]:
    return [(step.name, step.status.value) for step in run.steps]
