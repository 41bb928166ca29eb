"""Limits a hand-written YAML file must keep before anything is built from it.

Inventories, playbooks, answers and scenarios come from people and from other programs;
a file that is huge, nested a thousand deep, an alias bomb ("billion laughs"), a recursive
anchor or a 5,000-digit number must be refused as bad input at its line and column —
not stall the loader, exhaust the stack or raise a bare ``ValueError``. The check reads
the parser's event stream, which is iterative and never expands an alias, so its cost is
linear in the file's size whatever the file contains.
"""

from __future__ import annotations

from typing import Any, Final

import yaml
import yaml.resolver

from agent.line.errors import InputError

#: Characters in one file: a site inventory of thousands of sites is well under this.
MAX_CHARS: Final = 4 * 1024 * 1024
#: Nesting of mappings and sequences (a playbook nests a handful of levels).
MAX_DEPTH: Final = 64
#: Values in the document once every alias is expanded: bounds what the loader, the
#: schema validator and the engine will walk.
MAX_NODES: Final = 250_000
#: Digits in a number: Python refuses to convert more than 4,300; nothing real needs 40.
MAX_NUMBER_CHARS: Final = 40

_INT_TAG: Final = "tag:yaml.org,2002:int"
_RESOLVER: Final = yaml.resolver.Resolver()


class _Open:
    __slots__ = ("anchor", "size")

    def __init__(self, anchor: str | None) -> None:
        self.anchor = anchor
        self.size = 1


class _Walk:
    """One pass over the events: nesting depth, anchors' expanded sizes, the total."""

    def __init__(self, name: str, error_cls: type[InputError]) -> None:
        self.name = name
        self.error_cls = error_cls
        self.stack: list[_Open] = []
        self.anchors: dict[str, int] = {}
        self.total = 0

    def fail(self, message: str, mark: Any) -> InputError:
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return self.error_cls(message, path=self.name, line=line, column=column)

    def event(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.CollectionStartEvent):
            self.stack.append(_Open(event.anchor))
            if len(self.stack) > MAX_DEPTH:
                raise self.fail(f"nested too deeply (limit {MAX_DEPTH} levels)",
                                event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            closed = self.stack.pop()
            if closed.anchor is not None:
                self.anchors[closed.anchor] = closed.size
            self.count(closed.size, event)
        elif isinstance(event, yaml.ScalarEvent):
            self.number(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = 1
            self.count(1, event)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise self.fail(f"alias *{event.anchor} refers to an anchor that contains it "
                                "(a recursive structure) or is not defined yet",
                                event.start_mark)
            self.count(self.anchors[event.anchor], event)

    def count(self, size: int, event: yaml.Event) -> None:
        self.total += size
        if self.stack:
            self.stack[-1].size += size
        if self.total > MAX_NODES:
            raise self.fail(f"too many values once aliases are expanded (limit {MAX_NODES:,}):"
                            " an alias bomb, or a file to split", event.start_mark)

    def number(self, event: yaml.ScalarEvent) -> None:
        value = event.value
        if len(value) <= MAX_NUMBER_CHARS or event.style not in (None, ""):
            return
        if _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _INT_TAG:  # type: ignore[no-untyped-call]
            raise self.fail(f"number too long: {len(value):,} characters "
                            f"(limit {MAX_NUMBER_CHARS})", event.start_mark)


def check_limits(text: str, name: str, error_cls: type[InputError] = InputError) -> None:
    """Raise ``error_cls`` at the offending position if ``text`` breaks a limit.

    YAML syntax errors are left to the loader that follows (it words them better); this
    pass stops at the first of them silently.
    """
    if len(text) > MAX_CHARS:
        raise error_cls(f"file too large: {len(text):,} characters (limit {MAX_CHARS:,})",
                        path=name, line=1, column=1)
    walk = _Walk(name, error_cls)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            walk.event(event)
    except yaml.YAMLError:
        return  # the loader reports the syntax error with its own words


def unbuildable(root: yaml.Node | None, name: str, error_cls: type[InputError]) -> InputError:
    """The error for the first scalar that cannot be built, at its line and column: the
    YAML timestamp pattern takes month 13 and hour 25, ``datetime`` does not (a
    ``ValueError`` from construction; call this when one happens, the tree is within the
    limits ``check_limits`` checked)."""
    stack, seen = ([root] if root is not None else []), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: the same node again
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except ValueError:
                mark = node.start_mark
                return error_cls(f"not a real date or time: {node.value[:40]!r}", path=name,
                                 line=mark.line + 1, column=mark.column + 1)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in reversed(node.value) for part in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return error_cls("a value cannot be built", path=name, line=1, column=1)
