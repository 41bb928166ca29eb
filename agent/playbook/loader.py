"""YAML file → validated :class:`Playbook`, or a ``PlaybookError`` pointing at the line.

The file is composed (not just loaded) so every node keeps its line and column; the
plain data is checked against the published JSON Schema, and each schema error is mapped
back to the YAML node it is about. Semantic checks the schema cannot express (duplicate
step names, reserved names, expression syntax) follow. A bad file never gives a
traceback: every problem, YAML syntax included, becomes a located ``PlaybookError``.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from agent.errors import PlaybookError
from agent.playbook.expressions import (
    RESERVED_NAMES,
    ExpressionSyntaxError,
    compile_expression,
    kind_of,
)
from agent.playbook.model import (
    Expectation,
    GetStep,
    OnFailure,
    Playbook,
    Priority,
    SourceLocation,
    Step,
)

PathPart = str | int
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


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
class _Issue:
    """One problem before it becomes an exception; ``missing``/``suggests`` let an unknown
    key that is a typo of a missing one replace the "missing key" noise."""

    message: str
    line: int
    column: int
    at: tuple[PathPart, ...] = ()
    missing: frozenset[str] = field(default=frozenset(), compare=False)
    suggests: str | None = field(default=None, compare=False)


# --- public API --------------------------------------------------------------------


def schema() -> dict[str, Any]:
    """The published playbook JSON Schema (draft 2020-12), a fresh copy each call."""
    result: dict[str, Any] = json.loads(_schema_text())
    return result


def load_playbook(path: str | os.PathLike[str]) -> Playbook:
    """Read, validate and compile a playbook file."""
    shown = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PlaybookError(f"cannot read playbook: {exc.strerror or exc}", path=shown) from None
    return parse_playbook(_decode(raw, shown), path=shown)


def parse_playbook(text: str, *, path: str | None = None) -> Playbook:
    """Validate and compile playbook text (``path`` only labels the errors)."""
    try:
        root, data = _compose(text, path)
        _raise_if(_schema_issues(data, root), path)
        return _build(data, root, text, path)
    except RecursionError:
        raise PlaybookError("the playbook nests too deeply (or has a recursive YAML anchor)",
                            path=path, line=1, column=1) from None


# --- reading and composing ---------------------------------------------------------


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def _decode(raw: bytes, path: str) -> str:
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


def _compose(text: str, path: str | None) -> tuple[yaml.Node, Any]:
    """Node tree (for positions) and plain data (for the schema) from one parse."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader rejects control characters right here
        root = loader.get_single_node()
        if root is None:
            raise PlaybookError("the playbook is empty: it needs at least \"name\" and \"steps\"",
                                path=path, line=1, column=1)
        _raise_if(_duplicate_keys(root), path)
        return root, loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path) from None
    except yaml.reader.ReaderError as exc:
        line, column = _position(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise PlaybookError(f"YAML syntax error: {exc.reason} (character U+{code:04X})",
                            path=path, line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise PlaybookError(f"YAML syntax error: {exc}", path=path, line=1, column=1) from None
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


def _duplicate_keys(root: yaml.Node) -> list[_Issue]:
    """PyYAML silently keeps the last of two equal keys; a playbook must not."""
    issues = []
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
                issues.append(_issue_at(f'duplicate key "{key.value}" (first on line {line})',
                                        key))
            else:
                first[ident] = key
    return issues


# --- positions ---------------------------------------------------------------------


def _issue_at(message: str, node: yaml.Node, at: tuple[PathPart, ...] = (), **extra: Any
              ) -> _Issue:
    return _Issue(message, node.start_mark.line + 1, node.start_mark.column + 1, at, **extra)


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


def _value_node(root: yaml.Node, at: Sequence[PathPart]) -> yaml.Node:
    """The value's node, or its key when the value is empty (``steps:`` with nothing)."""
    node, key = _locate(root, at)
    empty = isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG and not node.value
    return key if (empty and key is not None) else node


def _key_node(root: yaml.Node, at: Sequence[PathPart], key: Any) -> yaml.Node:
    mapping, _ = _locate(root, at)
    found = _child(mapping, key)
    return found[0] if found and found[0] is not None else mapping


# --- describing where a problem is ---------------------------------------------------


def _describe(at: Sequence[PathPart], data: Any) -> str:
    """Human name of a data path: 'step 2 ("Trunks up")', '"on_failure.priority" in step 2'."""
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


def _within(at: Sequence[PathPart], data: Any) -> str:
    return f"in {_describe(at, data)}" if at else "at the top level"


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    options = list(choices)
    for option in options:
        if option.casefold() == word.casefold():
            return option
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


# --- schema errors → issues ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Failure:
    """A jsonschema error with its unset-able fields normalised, plus the file it is in."""

    keyword: str
    expected: Any  # the keyword's value in the schema
    instance: Any
    schema: Mapping[str, Any]
    at: tuple[PathPart, ...]
    about_key: bool  # a propertyNames failure: the instance is a key of the mapping at ``at``
    data: Any
    root: yaml.Node

    @classmethod
    def of(cls, error: ValidationError, data: Any, root: yaml.Node) -> _Failure:
        subschema = error.schema if isinstance(error.schema, Mapping) else {}
        return cls(keyword=str(error.validator), expected=error.validator_value,
                   instance=error.instance, schema=subschema, at=tuple(error.absolute_path),
                   about_key="propertyNames" in error.absolute_schema_path, data=data,
                   root=root)

    @property
    def description(self) -> str:
        return _describe(self.at, self.data)

    @property
    def within(self) -> str:
        return _within(self.at, self.data)

    def mapping_node(self) -> yaml.Node:
        return _locate(self.root, self.at)[0]

    def value_node(self) -> yaml.Node:
        return _value_node(self.root, self.at)

    def issue(self, message: str, node: yaml.Node, **extra: Any) -> _Issue:
        return _issue_at(message, node, self.at, **extra)


def _schema_issues(data: Any, root: yaml.Node) -> list[_Issue]:
    issues: list[_Issue] = []
    for error in _validator().iter_errors(data):
        failure = _Failure.of(error, data, root)
        handler = _bad_name if failure.about_key else _HANDLERS.get(failure.keyword, _generic)
        issues.extend(handler(failure))
    return issues


def _unknown_keys(failure: _Failure) -> list[_Issue]:
    allowed = sorted(failure.schema.get("properties", {}))
    issues = []
    for key in failure.instance:
        if key in allowed:
            continue
        suggestion = _suggest(str(key), allowed)
        hint = (f'did you mean "{suggestion}"?' if suggestion
                else f"allowed keys: {', '.join(allowed)}")
        node = _key_node(failure.root, failure.at, key)
        message = f'unknown key "{key}" {failure.within}; {hint}'
        issues.append(failure.issue(message, node, suggests=suggestion))
    return issues


def _missing_keys(failure: _Failure) -> list[_Issue]:
    return [
        failure.issue(f'missing required key "{key}" {failure.within}', failure.mapping_node(),
                      missing=frozenset({key}))
        for key in failure.expected
        if key not in failure.instance
    ]


def _actions(failure: _Failure) -> list[_Issue]:
    """A step needs exactly one action key (the schema's ``oneOf`` of ``required``)."""
    actions = [key for option in failure.expected for key in option.get("required", [])]
    present = [key for key in actions if key in failure.instance]
    if not present:
        choices = " or ".join(f'"{action}: ..."' for action in actions)
        message = f"{failure.description} has no action: add {choices}"
        return [failure.issue(message, failure.mapping_node(), missing=frozenset(actions))]
    message = (f"{failure.description} has more than one action ({', '.join(present)}): "
               "split it into separate steps")
    return [failure.issue(message, failure.mapping_node())]


def _wrong_type(failure: _Failure) -> list[_Issue]:
    names = [failure.expected] if isinstance(failure.expected, str) else failure.expected
    wanted = " or ".join(_TYPE_WORDS.get(name, name) for name in names)
    node = failure.value_node()
    message = f"{failure.description} must be {wanted}, got {kind_of(failure.instance)}"
    if failure.expected == "string" and isinstance(node, yaml.ScalarNode) and node.value:
        message += f'; quote it ("{node.value}") if you meant text'
    if failure.expected == "array" and isinstance(node, yaml.ScalarNode):
        message += '; write it as a list ("- ..." on the next lines, or [...])'
    return [failure.issue(message, node)]


def _not_allowed(failure: _Failure) -> list[_Issue]:
    allowed = [str(choice) for choice in failure.expected]
    value = failure.instance
    suggestion = _suggest(str(value), allowed)
    hint = f'; did you mean "{suggestion}"?' if suggestion else ""
    if failure.at and failure.at[-1] == "get":
        message = (f'unknown getter "{value}" {_within(failure.at[:-1], failure.data)}{hint} '
                   f"(valid getters: {', '.join(allowed)})")
    else:
        message = (f"{failure.description} must be one of {', '.join(allowed)}, "
                   f"got {json.dumps(value, default=str)}{hint}")
    return [failure.issue(message, failure.value_node())]


def _empty(failure: _Failure) -> list[_Issue]:
    return [failure.issue(f"{failure.description} must not be empty", failure.value_node())]


def _bad_name(failure: _Failure) -> list[_Issue]:
    """Names bound for expressions (vars keys, register) must be Jinja identifiers."""
    name = json.dumps(failure.instance, default=str)
    if failure.about_key:
        node = _key_node(failure.root, failure.at, failure.instance)
        what = f"name {name} {failure.within}"
    else:
        node = failure.value_node()
        what = f'"{failure.at[-1]}" value {name} {_within(failure.at[:-1], failure.data)}'
    message = f"{what} is not a valid name: use letters, digits and _, not starting with a digit"
    return [failure.issue(message, node)]


def _duplicates(failure: _Failure) -> list[_Issue]:
    return [failure.issue(f"{failure.description} lists an entry twice", failure.value_node())]


def _generic(failure: _Failure) -> list[_Issue]:
    """Keywords without a tailored message still get a position (jsonschema's own words)."""
    message = f"{failure.description}: failed {failure.keyword} {failure.expected!r}"
    return [failure.issue(message, failure.value_node())]


_HANDLERS: dict[str, Callable[[_Failure], list[_Issue]]] = {
    "additionalProperties": _unknown_keys,
    "required": _missing_keys,
    "oneOf": _actions,
    "type": _wrong_type,
    "enum": _not_allowed,
    "minItems": _empty,
    "minLength": _empty,
    "minProperties": _empty,
    "pattern": _bad_name,
    "uniqueItems": _duplicates,
}


def _raise_if(issues: list[_Issue], path: str | None) -> None:
    """Raise every issue at once, in file order, minus "missing" noise explained by a typo."""
    if not issues:
        return
    typos = {(issue.at, issue.suggests) for issue in issues if issue.suggests}
    kept = [
        issue for issue in issues
        if not any((issue.at, key) in typos for key in issue.missing)
    ]
    ordered = sorted(set(kept), key=lambda issue: (issue.line, issue.column, issue.message))
    raise PlaybookInvalidError([
        PlaybookError(issue.message, path=path, line=issue.line, column=issue.column)
        for issue in ordered
    ])


# --- semantic checks and model building ---------------------------------------------


@dataclass(slots=True)
class _Source:
    """What the builders need to point back at the file."""

    data: Mapping[str, Any]
    root: yaml.Node
    lines: list[str]
    path: str | None
    issues: list[_Issue] = field(default_factory=list)

    def where(self, at: Sequence[PathPart]) -> SourceLocation:
        node, _ = _locate(self.root, at)
        return SourceLocation(self.path, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(data: Mapping[str, Any], root: yaml.Node, text: str, path: str | None) -> Playbook:
    source = _Source(data, root, text.splitlines(), path)
    steps = [_build_step(index, source) for index in range(len(data["steps"]))]
    source.issues.extend(_duplicate_step_names(data, root))
    source.issues.extend(_reserved_names(data, root))
    _raise_if(source.issues, path)
    return Playbook(
        name=data["name"],
        description=data.get("description", ""),
        vars=dict(data.get("vars") or {}),
        steps=tuple(steps),
        path=path,
    )


def _build_step(index: int, source: _Source) -> Step:
    """Common keys here; the action key picks the step class (the schema ensured one)."""
    at: tuple[PathPart, ...] = ("steps", index)
    raw = source.data["steps"][index]
    expectations = (
        _expectation((*at, "expect", number), text, source)
        for number, text in enumerate(raw.get("expect", []))
    )
    on_failure = raw.get("on_failure")
    common: dict[str, Any] = {
        "name": raw["name"],
        "expect": tuple(e for e in expectations if e is not None),
        "register": raw.get("register"),
        "on_failure": _on_failure(on_failure) if on_failure else None,
        "tags": tuple(raw.get("tags", ())),
        "where": source.where(at),
    }
    action = next(key for key in _STEP_BUILDERS if key in raw)
    return _STEP_BUILDERS[action](raw, common)


def _get_step(raw: Mapping[str, Any], common: dict[str, Any]) -> Step:
    return GetStep(get=raw["get"], **common)


#: Action key → step class builder; new step kinds (command, set, ask, wait) add a line.
_STEP_BUILDERS: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], Step]] = {
    "get": _get_step,
}


def _on_failure(raw: Mapping[str, Any]) -> OnFailure:
    priority = raw.get("priority")
    return OnFailure(priority=Priority(priority) if priority else None,
                     summary=raw.get("summary"))


def _expectation(at: tuple[PathPart, ...], text: str, source: _Source) -> Expectation | None:
    """Compile one ``expect`` entry now, so a typo is caught before the line is dialled."""
    node, _ = _locate(source.root, at)
    try:
        expression = compile_expression(text)
    except ExpressionSyntaxError as exc:
        line, column = _expression_position(node, exc.lineno, source.lines)
        message = f"invalid expression in {_describe(at, source.data)}: {exc}"
        source.issues.append(_Issue(message, line, column, at))
        return None
    return Expectation(expression, source.where(at))


def _expression_position(node: yaml.Node, lineno: int, lines: list[str]) -> tuple[int, int]:
    """Line of a syntax error; inside a literal block (``|``) lines map one to one."""
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.ScalarNode) and node.style == "|":
        line += lineno
        text = lines[line - 1] if line - 1 < len(lines) else ""
        column = len(text) - len(text.lstrip(" ")) + 1
    return line, column


def _duplicate_step_names(data: Mapping[str, Any], root: yaml.Node) -> list[_Issue]:
    first_line: dict[str, int] = {}
    issues = []
    for index, step in enumerate(data["steps"]):
        at = ("steps", index, "name")
        node = _value_node(root, at)
        name = step["name"]
        if name in first_line:
            message = f'duplicate step name "{name}" (first used on line {first_line[name]}); ' \
                      "step names must be unique"
            issues.append(_issue_at(message, node, at))
        else:
            first_line[name] = node.start_mark.line + 1
    return issues


def _reserved_names(data: Mapping[str, Any], root: yaml.Node) -> list[_Issue]:
    """A var or register named like a helper (or ``result``) would silently hide it."""
    issues = []
    for name in data.get("vars") or {}:
        if name in RESERVED_NAMES:
            node = _key_node(root, ("vars",), name)
            message = f'var "{name}" would hide the built-in "{name}"; pick another name'
            issues.append(_issue_at(message, node, ("vars",)))
    for index, step in enumerate(data["steps"]):
        name = step.get("register")
        if name in RESERVED_NAMES:
            at = ("steps", index, "register")
            message = (f'register "{name}" {_within(at[:-1], data)} would hide the built-in '
                       f'"{name}"; pick another name')
            issues.append(_issue_at(message, _value_node(root, at), at))
    return issues
