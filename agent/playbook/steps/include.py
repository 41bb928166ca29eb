"""``include``: run another playbook file's steps here, its vars overridden by ``vars``.

The included file is loaded (and checked) with the including one, so a problem in it is
reported at its own ``file:line`` before anything runs; the engine expands the steps in
place, so an include has no handler of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.errors import PlaybookError
from agent.playbook.compiling import StepSite
from agent.playbook.includes import foreign, resolve, shown
from agent.playbook.kinds import StepKind
from agent.playbook.model import Playbook, Step
from agent.playbook.source import PlaybookInvalidError, position_of


@dataclass(frozen=True, slots=True, kw_only=True)
class IncludeStep(Step):
    """Run another playbook's steps here, with its vars overridden by ``vars``."""

    action: ClassVar[str] = "include"

    include: str  # as written (relative to the including file)
    playbook: Playbook

    @property
    def included(self) -> Playbook | None:
        return self.playbook


SCHEMA = {
    "properties": {
        "include": {"$ref": "#/$defs/text", "description": "Action: run another playbook "
                                                           "file's steps (path relative to "
                                                           "this file)."},
    },
}


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> IncludeStep | None:
    target = resolve(raw["include"], site.path, site.includes)
    if isinstance(target, str):
        site.problem(target, "include")
        return None
    origin = position_of(site.place.child("include").value_node())
    try:
        playbook = site.includes.load(str(shown(target)), site.includes)
    except PlaybookInvalidError as exc:
        site.problems.extend(foreign(problem, origin) for problem in exc.problems)
        return None
    except PlaybookError as exc:
        if exc.line is None:  # unreadable: the problem is the include line itself
            site.problem(f'cannot include "{raw["include"]}": {exc.message}', "include")
        else:
            site.problems.append(foreign(exc, origin))
        return None
    return IncludeStep(include=raw["include"], playbook=playbook, **common)


KIND = StepKind(name="include", model=IncludeStep, schema=SCHEMA, build=build, run=None,
                diagnostic=False, rank=80,
                not_with=frozenset({"expect", "register", "on_failure", "loop", "loop_var",
                                    "retries", "delay", "until", "continue_on_failure"}),
                why_not="put these keys on the included steps")
