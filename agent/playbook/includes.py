"""Where an ``include`` may come from, and the chain of files above the one being read.

Includes are confined to the top playbook's folder (a playbook never reads the agent's
own files), may not form a cycle, and nest at most :data:`MAX_INCLUDE_DEPTH` deep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import PlaybookError
from agent.playbook.model import Playbook
from agent.playbook.source import Problem

#: Deepest include nesting (cycles are caught before this; it bounds honest chains).
MAX_INCLUDE_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Includes:
    """Where includes may come from (the top playbook's folder), the files above us, and
    how to load one (the loader's own entry, so an included file is checked the same way)."""

    root: Path
    chain: tuple[Path, ...]
    load: Callable[[str, Includes], Playbook]

    def below(self, path: Path) -> Includes:
        return Includes(self.root, (*self.chain, path), self.load)


def resolve(written: str, including: str | None, includes: Includes) -> Path | str:
    """The included file inside the top playbook's folder, or why it may not be read."""
    base = Path(including).resolve().parent if including else includes.root
    relative = Path(written)
    target = (base / relative).resolve()
    if relative.is_absolute() or not target.is_relative_to(includes.root):
        return (f'include "{written}" is outside the playbook folder {includes.root}: '
                "a playbook may only include files beside or below it")
    if relative.suffix not in (".yaml", ".yml"):
        return f'include "{written}" is not a playbook file (.yaml or .yml)'
    if target in includes.chain:
        loop = [*includes.chain[includes.chain.index(target):], target]
        return "include cycle: " + " → ".join(path.name for path in loop)
    if len(includes.chain) >= MAX_INCLUDE_DEPTH:
        return f"includes nest more than {MAX_INCLUDE_DEPTH} deep"
    return target


def shown(target: Path) -> Path:
    """A path as the user would write it (relative to the working directory when inside)."""
    try:
        return target.relative_to(Path.cwd())
    except ValueError:
        return target


def foreign(problem: PlaybookError, origin: tuple[int, int]) -> Problem:
    """A problem in an included file keeps that file's path and position."""
    return Problem(problem.message, problem.line or 1, problem.column or 1,
                   path=problem.path, origin=origin)
