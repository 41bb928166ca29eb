"""Step kinds: one module per kind in ``agent/playbook/steps``, found by scanning it.

A kind owns everything about its action: the schema fragment (its action key and the
keys that only go with it), its model class, its loader (YAML mapping → model, with the
checks the schema cannot express) and its engine handler. Dropping a module that defines
``KIND = StepKind(...)`` into the steps package adds the action to the published schema,
the loader and the engine, with no other file edited.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from agent.playbook import steps
from agent.playbook.model import Step

if TYPE_CHECKING:
    from agent.playbook.compiling import StepSite
    from agent.playbook.runtime import Outcome, StepRun

S = TypeVar("S", bound=Step)


@dataclass(frozen=True, slots=True, eq=False)
class StepKind(Generic[S]):
    """One action a step can take, behind the one shape the loader and the engine know."""

    #: The action key (``get:``), also the model's ``action``.
    name: str
    model: type[S]
    #: Schema fragment: ``properties`` (the action key first, then the keys that only go
    #: with it), and optionally ``$defs``, ``dependentRequired`` and ``allOf`` (conditional
    #: rules), merged into the step schema.
    schema: Mapping[str, Any]
    #: YAML mapping + the built common keys → the step, or None after recording problems.
    build: Callable[[Mapping[str, Any], dict[str, Any], StepSite], S | None]
    #: The engine handler; None for a kind the engine expands in place (include).
    run: Callable[[S, StepRun, dict[str, Any]], Outcome] | None
    #: Whether running it looks at the PBX's health, so its result is evidence a ticket
    #: may be opened or cleared on (``set``/``ask``/``backup`` are not).
    diagnostic: bool
    #: Where it is listed among the actions (schema ``oneOf``, messages); ties by name.
    rank: int = 100
    #: Common keys that do not fit this action (the schema allows them on any step).
    not_with: frozenset[str] = frozenset()
    #: Why, said after a misplaced key.
    why_not: str | None = None


def step_kinds() -> tuple[StepKind[Any], ...]:
    """Every kind in the steps package, in listing order."""
    return _discover(_module_names())


def kind_named(action: str) -> StepKind[Any]:
    """The kind of an action key (``KeyError`` for none: the schema lets none through)."""
    return next(kind for kind in step_kinds() if kind.name == action)


def diagnostic_actions() -> frozenset[str]:
    """Action keys whose results are PBX evidence (for ticket filing)."""
    return frozenset(kind.name for kind in step_kinds() if kind.diagnostic)


def _module_names() -> tuple[str, ...]:
    """The kind modules on the package path now (a plug-in may extend ``__path__``)."""
    return tuple(sorted(info.name for info in pkgutil.iter_modules(steps.__path__)
                        if not info.name.startswith("_")))


@lru_cache(maxsize=8)
def _discover(names: tuple[str, ...]) -> tuple[StepKind[Any], ...]:
    found = []
    for name in names:
        module = importlib.import_module(f"{steps.__name__}.{name}")
        kind = getattr(module, "KIND", None)
        if not isinstance(kind, StepKind):
            raise TypeError(f"{module.__name__} defines no KIND = StepKind(...)")
        if kind.model.action != kind.name:
            raise TypeError(f"{module.__name__}: {kind.model.__name__}.action is "
                            f"{kind.model.action!r}, not {kind.name!r}")
        found.append(kind)
    return tuple(sorted(found, key=lambda kind: (kind.rank, kind.name)))
