"""The playbook file as YAML: composed with positions, and where in it a problem is.

The file is composed (not just loaded) so every node keeps its line and column. One
type says "where in the file": a :class:`Place` (a document and a data path into it),
from which a node, a ``file:line:column`` and a human description ('"since" in step 2
("Errors")') follow. A :class:`Problem` is one finding at a place before it becomes a
``PlaybookError``; :func:`raise_if` raises them all at once, in file order.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from agent.errors import PlaybookError
from agent.playbook.model import SourceLocation
from agent.yamlguard import check_limits, unbuildable

PathPart = str | int
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"


class PlaybookInvalidError(PlaybookError):
    """All problems found in one file; located at the first, ``problems`` lists them all.

    The CLI can print every ``problem.located()`` so an author fixes a file in one pass.
    """

    def __init__(self, problems: Sequence[PlaybookError]) -> None:
        first = problems[0]
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(first.message + suffix, path=first.path, line=first.line,
                         column=first.column)
        self.problems: tuple[PlaybookError, ...] = tuple(problems)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem before it becomes an exception; ``missing``/``suggests`` let an unknown
    key that is a typo of a missing one replace the "missing key" noise."""

    message: str
    line: int
    column: int
    at: tuple[PathPart, ...] = ()
    missing: frozenset[str] = field(default=frozenset(), compare=False)
    suggests: str | None = field(default=None, compare=False)
    #: Set for a problem inside an included file: its own path, and where the include is
    #: in this file (for ordering the list).
    path: str | None = None
    origin: tuple[int, int] | None = None


def raise_if(problems: list[Problem], path: str | None) -> None:
    """Raise every problem at once, in file order, minus "missing" noise explained by a typo."""
    if not problems:
        return
    typos = {(problem.at, problem.suggests) for problem in problems if problem.suggests}
    kept = [
        problem for problem in problems
        if not any((problem.at, key) in typos for key in problem.missing)
    ]
    ordered = sorted(set(kept), key=lambda problem: (
        problem.origin or (problem.line, problem.column), problem.line, problem.column,
        problem.message))
    raise PlaybookInvalidError([
        PlaybookError(problem.message, path=problem.path or path, line=problem.line,
                      column=problem.column)
        for problem in ordered
    ])


# --- the composed document ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Document:
    """One file: its node tree (for positions), plain data (for the schema), its lines."""

    root: yaml.Node
    data: Any
    lines: tuple[str, ...]
    path: str | None

    def at(self, *parts: PathPart) -> Place:
        return Place(self, tuple(parts))


@dataclass(frozen=True, slots=True)
class Place:
    """Where in the file: a data path (``("steps", 2, "since")``) in one document."""

    doc: Document
    at: tuple[PathPart, ...]

    def child(self, *parts: PathPart) -> Place:
        return Place(self.doc, (*self.at, *parts))

    @property
    def parent(self) -> Place:
        return Place(self.doc, self.at[:-1])

    def node(self) -> yaml.Node:
        """The node the path names (the deepest one found)."""
        return _locate(self.doc.root, self.at)[0]

    def value_node(self) -> yaml.Node:
        """The value's node, or its key when the value is empty (``steps:`` with nothing)."""
        node, key = _locate(self.doc.root, self.at)
        empty = isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG and not node.value
        return key if (empty and key is not None) else node

    def key_node(self, key: Any) -> yaml.Node:
        """The node of ``key`` in the mapping here (the mapping itself if not found)."""
        mapping = self.node()
        found = _child(mapping, key)
        return found[0] if found and found[0] is not None else mapping

    def location(self) -> SourceLocation:
        line, column = position_of(self.node())
        return SourceLocation(self.doc.path, line, column)

    def describe(self) -> str:
        """Human name: 'step 2 ("Trunks up")', '"on_failure.priority" in step 2'."""
        return _describe(self.at, self.doc.data)

    def within(self) -> str:
        return f"in {self.describe()}" if self.at else "at the top level"

    def problem(self, message: str, node: yaml.Node | None = None, **extra: Any) -> Problem:
        """A problem here, positioned at ``node`` (default: the value's node)."""
        line, column = position_of(node if node is not None else self.value_node())
        return Problem(message, line, column, self.at, **extra)

    def key_problem(self, message: str) -> Problem:
        """A problem with the key naming this place (``since`` where no since may be)."""
        return self.problem(message, self.parent.key_node(self.at[-1]))


def position_of(node: yaml.Node) -> tuple[int, int]:
    """1-based line and column of a node."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _locate(root: yaml.Node, at: Iterable[PathPart]) -> tuple[yaml.Node, yaml.Node | None]:
    """The node a data path names, and its key node; stops at the deepest node found."""
    node: yaml.Node = root
    key: yaml.Node | None = None
    for part in at:
        child = _child(node, part)
        if child is None:
            break
        key, node = child
    return node, key


def _child(node: yaml.Node, part: PathPart) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
            and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


def _describe(at: Sequence[PathPart], data: Any) -> str:
    if not at:
        return "the playbook"
    if isinstance(at[-1], int) and not (len(at) == 2 and at[0] == "steps"):
        return f"item {at[-1] + 1} of {_describe(at[:-1], data)}"
    if len(at) >= 2 and at[0] == "steps" and isinstance(at[1], int):
        step = _step_label(at[1], data)
        rest = [str(part) for part in at[2:]]
        return f'"{".".join(rest)}" in {step}' if rest else step
    return '"' + ".".join(str(part) for part in at) + '"'


def _step_label(index: int, data: Any) -> str:
    try:
        name = data["steps"][index].get("name")
    except (AttributeError, IndexError, KeyError, TypeError):
        name = None
    return f'step {index + 1} ("{name}")' if isinstance(name, str) and name else f"step {index + 1}"


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice the author probably meant (same but for case, or close), if any."""
    options = list(choices)
    for option in options:
        if option.casefold() == word.casefold():
            return option
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


# --- reading and composing ---------------------------------------------------------


def decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        raise PlaybookError("the playbook is not UTF-8 text", path=path, line=line,
                            column=column) from None


def _position(text: bytes | str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset (bytes are counted as latin-1 characters)."""
    head = text[:offset].decode("latin-1") if isinstance(text, bytes) else text[:offset]
    return head.count("\n") + 1, offset - (head.rfind("\n") + 1) + 1


def compose(text: str, path: str | None) -> Document:
    """Node tree (for positions) and plain data (for the schema) from one parse.

    The size, depth, alias-expansion and number-length limits are checked first, on the
    parser's events, so a hostile file is refused at its position before construction."""
    check_limits(text, path or "<playbook>", PlaybookError)
    loader: yaml.SafeLoader | None = None
    root: yaml.Node | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader rejects control characters right here
        root = loader.get_single_node()
        if root is None:
            raise PlaybookError("the playbook is empty: it needs at least \"name\" and \"steps\"",
                                path=path, line=1, column=1)
        raise_if(_duplicate_keys(root), path)
        return Document(root, loader.construct_document(root), tuple(text.splitlines()), path)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path) from None
    except yaml.reader.ReaderError as exc:
        line, column = _position(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise PlaybookError(f"YAML syntax error: {exc.reason} (character U+{code:04X})",
                            path=path, line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise PlaybookError(f"YAML syntax error: {exc}", path=path, line=1, column=1) from None
    except ValueError:  # a scalar the resolver accepts but cannot build (2026-13-45)
        raise unbuildable(root, path or "<playbook>", PlaybookError) from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_error(exc: yaml.MarkedYAMLError, path: str | None) -> PlaybookError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return PlaybookError(_yaml_message(exc, line), path=path, line=line, column=column)


def _yaml_message(exc: yaml.MarkedYAMLError, line: int) -> str:
    """PyYAML's words, plus where the construct began and a hint for the usual mistakes."""
    problem = exc.problem or "invalid YAML"
    context = exc.context or ""
    start = exc.context_mark
    if context and start is not None and start.line + 1 != line:
        context += f" (started on line {start.line + 1}, column {start.column + 1})"
    if isinstance(exc, yaml.constructor.ConstructorError):
        return f"YAML error: {problem}; playbooks are plain data, tags like !!python are refused"
    message = "YAML syntax error: " + ", ".join(part for part in (context, problem) if part)
    if "'\\t'" in problem:
        message += "; indent with spaces, YAML does not allow tabs"
    elif "mapping values are not allowed" in problem:
        message += "; check this line's indentation, or quote a value containing ': '"
    return message


def _walk(root: yaml.Node) -> Iterator[yaml.Node]:
    """Every node once, iteratively (aliases and recursive anchors cannot loop)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.MappingNode):
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _duplicate_keys(root: yaml.Node) -> list[Problem]:
    """PyYAML silently keeps the last of two equal keys; a playbook must not."""
    problems = []
    for node in _walk(root):
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[tuple[str, str], yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            ident = (key.tag, key.value)
            if ident in first:
                line = first[ident].start_mark.line + 1
                problems.append(Problem(f'duplicate key "{key.value}" (first on line {line})',
                                        *position_of(key)))
            else:
                first[ident] = key
    return problems
