"""YAML file → validated :class:`Playbook`, or a ``PlaybookError`` pointing at the line.

The file is composed (not just loaded) so every node keeps its line and column; the
plain data is checked against the published JSON Schema, and each schema error is mapped
back to the YAML node it is about. Semantic checks the schema cannot express (duplicate
step names, reserved names, expression syntax, keys that do not fit the step's action,
settings and their targets, includes) follow. A bad file never gives a traceback: every
problem, YAML syntax included, becomes a located ``PlaybookError`` — in the file it is in,
which for a problem inside an included playbook is that file.
"""

from __future__ import annotations

import difflib
import json
import os
import re
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
    Expression,
    ExpressionSyntaxError,
    Template,
    compile_expression,
    compile_template,
    kind_of,
)
from agent.playbook.model import (
    AnswerType,
    AskStep,
    BackupStep,
    CommandStep,
    Expectation,
    GetStep,
    IncludeStep,
    OnFailure,
    OutputPattern,
    Playbook,
    Priority,
    ReadStep,
    SetStep,
    SourceLocation,
    Step,
    WaitStep,
)
from drivers.base import SETTINGS, SINCE_GETTERS

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
    #: Set for a problem inside an included file: its own path, and where the include is
    #: in this file (for ordering the list).
    path: str | None = None
    origin: tuple[int, int] | None = None


# --- public API --------------------------------------------------------------------


def schema() -> dict[str, Any]:
    """The published playbook JSON Schema (draft 2020-12), a fresh copy each call."""
    result: dict[str, Any] = json.loads(_schema_text())
    return result


def load_playbook(path: str | os.PathLike[str]) -> Playbook:
    """Read, validate and compile a playbook file (and every file it includes)."""
    shown = os.fspath(path)
    return _load(shown, _Includes(root=Path(shown).resolve().parent, chain=()))


def parse_playbook(text: str, *, path: str | None = None) -> Playbook:
    """Validate and compile playbook text (``path`` labels the errors and anchors includes)."""
    base = Path(path).resolve().parent if path else Path.cwd()
    chain = (Path(path).resolve(),) if path else ()
    return _parse(text, path, _Includes(root=base, chain=chain))


@dataclass(frozen=True, slots=True)
class _Includes:
    """Where includes may come from (the top playbook's folder) and the files above us."""

    root: Path
    chain: tuple[Path, ...]


#: Deepest include nesting (cycles are caught before this; it bounds honest chains).
MAX_INCLUDE_DEPTH = 16


def _load(shown: str, includes: _Includes) -> Playbook:
    try:
        raw = Path(shown).read_bytes()
    except OSError as exc:
        raise PlaybookError(f"cannot read playbook: {exc.strerror or exc}", path=shown) from None
    chain = (*includes.chain, Path(shown).resolve())
    return _parse(_decode(raw, shown), shown, _Includes(includes.root, chain))


def _parse(text: str, path: str | None, includes: _Includes) -> Playbook:
    try:
        root, data = _compose(text, path)
        _raise_if(_schema_issues(data, root), path)
        return _build(data, root, text, path, includes)
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


_MISSING_HINTS = {
    "vendors": "; a command string is one vendor's dialect: add vendors: [...] or write "
               "command: {panasonic: ..., toshiba: ...}",
    "choices": '; a "choice" question lists its choices',
}


def _missing_keys(failure: _Failure) -> list[_Issue]:
    return [
        failure.issue(f'missing required key "{key}" {failure.within}{_MISSING_HINTS.get(key, "")}',
                      failure.mapping_node(), missing=frozenset({key}))
        for key in failure.expected
        if key not in failure.instance
    ]


def _needs(failure: _Failure) -> list[_Issue]:
    """``dependentRequired``: a key that only makes sense next to another one."""
    issues = []
    for key, needed in failure.expected.items():
        absent = [name for name in needed if name not in failure.instance]
        if key not in failure.instance or not absent:
            continue
        wanted = " and ".join(f'"{name}"' for name in absent)
        message = f'"{key}" {failure.within} needs {wanted} too{_NEEDS_HINTS.get(key, "")}'
        issues.append(failure.issue(message, _key_node(failure.root, failure.at, key)))
    return issues


_NEEDS_HINTS = {
    "retries": ": retries repeat the step until a condition holds",
    "until": ": say how many retries (attempts after the first)",
}


def _not_const(failure: _Failure) -> list[_Issue]:
    wanted = json.dumps(failure.expected)
    return [failure.issue(f"{failure.description} must be {wanted}", failure.value_node())]


def _out_of_range(failure: _Failure) -> list[_Issue]:
    words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
             "exclusiveMaximum": "less than"}[failure.keyword]
    message = (f"{failure.description} must be {words} {failure.expected}, "
               f"got {json.dumps(failure.instance, default=str)}")
    return [failure.issue(message, failure.value_node())]


def _actions(failure: _Failure) -> list[_Issue]:
    """A step needs exactly one action key (the schema's ``oneOf`` of ``required``)."""
    actions = [key for option in failure.expected for key in option.get("required", [])]
    instance = failure.instance if isinstance(failure.instance, dict) else {}
    present = [key for key in actions if key in instance]
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
    "dependentRequired": _needs,
    "const": _not_const,
    "minimum": _out_of_range,
    "maximum": _out_of_range,
    "exclusiveMinimum": _out_of_range,
    "exclusiveMaximum": _out_of_range,
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
    ordered = sorted(set(kept), key=lambda issue: (
        issue.origin or (issue.line, issue.column), issue.line, issue.column, issue.message))
    raise PlaybookInvalidError([
        PlaybookError(issue.message, path=issue.path or path, line=issue.line,
                      column=issue.column)
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
    includes: _Includes
    issues: list[_Issue] = field(default_factory=list)

    def where(self, at: Sequence[PathPart]) -> SourceLocation:
        node, _ = _locate(self.root, at)
        return SourceLocation(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, message: str, at: tuple[PathPart, ...], *, key: bool = False) -> None:
        """Record a problem at a value (or, with ``key``, at the key naming it)."""
        node = _key_node(self.root, at[:-1], at[-1]) if key else _value_node(self.root, at)
        self.issues.append(_issue_at(message, node, at))

    def describe(self, at: Sequence[PathPart]) -> str:
        return _describe(at, self.data)

    def compiled(self, at: tuple[PathPart, ...], text: str,
                 compile_: Callable[[str], Any], what: str) -> Any:
        """Compile an expression or template now, so a typo is caught before dialling."""
        try:
            return compile_(text)
        except ExpressionSyntaxError as exc:
            node, _ = _locate(self.root, at)
            line, column = _expression_position(node, exc.lineno, self.lines)
            self.issues.append(_Issue(f"invalid {what} in {self.describe(at)}: {exc}", line,
                                      column, at))
            return None

    def expression(self, at: tuple[PathPart, ...], text: str) -> Expression | None:
        result: Expression | None = self.compiled(at, text, compile_expression, "expression")
        return result

    def template(self, at: tuple[PathPart, ...], text: str) -> Template | None:
        result: Template | None = self.compiled(at, text, compile_template, "template")
        return result


def _build(data: Mapping[str, Any], root: yaml.Node, text: str, path: str | None,
           includes: _Includes) -> Playbook:
    source = _Source(data, root, text.splitlines(), path, includes)
    built = [_build_step(index, source) for index in range(len(data["steps"]))]
    source.issues.extend(_duplicate_step_names(data, root))
    source.issues.extend(_reserved_names(data, root))
    _raise_if(source.issues, path)
    steps = tuple(step for step in built if step is not None)
    playbook = Playbook(name=data["name"], description=data.get("description", ""),
                        vars=dict(data.get("vars") or {}), steps=steps, path=path)
    _raise_if(_duplicate_ask_keys(playbook), path)
    return playbook


# --- one step --------------------------------------------------------------------------

#: Keys that do not fit an action (the schema allows them on a step in general).
_NOT_WITH: Mapping[str, frozenset[str]] = {
    "include": frozenset({"expect", "register", "on_failure", "loop", "loop_var", "retries",
                          "delay", "until", "continue_on_failure"}),
    "set": frozenset({"retries", "delay", "until"}),
    "ask": frozenset({"retries", "delay", "until", "loop", "loop_var"}),
    "wait": frozenset({"retries", "delay", "until"}),
    "backup": frozenset({"retries", "delay", "until", "loop", "loop_var"}),
}
_WHY_NOT = {
    "set": "a programming change is never repeated blindly",
    "wait": "wait polls by itself (timeout, interval)",
    "include": "put these keys on the included steps",
}


def _build_step(index: int, source: _Source) -> Step | None:
    """Common keys here; the action key picks the step class (the schema ensured one)."""
    at: tuple[PathPart, ...] = ("steps", index)
    raw = source.data["steps"][index]
    action = next(key for key in _STEP_BUILDERS if key in raw)
    _misplaced_keys(action, raw, at, source)
    common = _common(raw, at, source)
    if common is None:
        return None
    return _STEP_BUILDERS[action](raw, common, _At(at, source))


def _misplaced_keys(action: str, raw: Mapping[str, Any], at: tuple[PathPart, ...],
                    source: _Source) -> None:
    for key in sorted(_NOT_WITH.get(action, frozenset()).intersection(raw)):
        why = _WHY_NOT.get(action)
        message = (f'"{key}" cannot be used with "{action}" in {source.describe(at)}'
                   + (f": {why}" if why else ""))
        source.problem(message, (*at, key), key=True)


def _common(raw: Mapping[str, Any], at: tuple[PathPart, ...], source: _Source
            ) -> dict[str, Any] | None:
    expectations = [_expectation((*at, "expect", number), text, source)
                    for number, text in enumerate(raw.get("expect", []))]
    when = _optional_expression(raw, "when", at, source)
    until = _optional_expression(raw, "until", at, source)
    loop = _loop(raw, at, source)
    step_vars = _data(raw.get("vars") or {}, (*at, "vars"), source)
    _check_loop_var(raw, at, source)
    compiled = [*expectations, *(v for k, v in (("when", when), ("until", until), ("loop", loop))
                                 if k in raw)]
    if any(item is None for item in compiled) or step_vars is None:
        return None
    on_failure = raw.get("on_failure")
    return {
        "name": raw["name"],
        "expect": tuple(e for e in expectations if e is not None),
        "register": raw.get("register"),
        "on_failure": _on_failure(on_failure) if on_failure else None,
        "tags": tuple(raw.get("tags", ())),
        "where": source.where(at),
        "when": when,
        "loop": loop,
        "loop_var": raw.get("loop_var", "item"),
        "retries": raw.get("retries", 0),
        "delay": float(raw.get("delay", 1.0)),
        "until": until,
        "vendors": tuple(raw.get("vendors", ())),
        "models": tuple(raw.get("models", ())),
        "continue_on_failure": raw.get("continue_on_failure", True),
        "vars": step_vars,
    }


def _optional_expression(raw: Mapping[str, Any], key: str, at: tuple[PathPart, ...],
                         source: _Source) -> Expression | None:
    if key not in raw:
        return None
    value = raw[key]  # ``when: false`` is YAML's boolean: the expression false
    text = str(value).lower() if isinstance(value, bool) else value
    return source.expression((*at, key), text)


def _loop(raw: Mapping[str, Any], at: tuple[PathPart, ...], source: _Source) -> Any:
    """A loop string is an expression giving a list; a list's strings may be templates."""
    if "loop" not in raw:
        return None
    if isinstance(raw["loop"], str):
        return source.expression((*at, "loop"), raw["loop"])
    items = _data(raw["loop"], (*at, "loop"), source)
    return tuple(items) if items is not None else None


def _check_loop_var(raw: Mapping[str, Any], at: tuple[PathPart, ...], source: _Source) -> None:
    name = raw.get("loop_var")
    if name in RESERVED_NAMES:
        source.problem(f'loop_var "{name}" {_within(at, source.data)} would hide the built-in '
                       f'"{name}"; pick another name', (*at, "loop_var"))


def _data(value: Any, at: tuple[PathPart, ...], source: _Source) -> Any:
    """Plain YAML data with every string holding ``{{`` compiled as a template (None if bad)."""
    failed = False

    def walk(item: Any, where: tuple[PathPart, ...]) -> Any:
        nonlocal failed
        if isinstance(item, str) and ("{{" in item or "{%" in item):
            template = source.template(where, item)
            failed = failed or template is None
            return template
        if isinstance(item, Mapping):
            return {key: walk(child, (*where, key)) for key, child in item.items()}
        if isinstance(item, list):
            return [walk(child, (*where, number)) for number, child in enumerate(item)]
        return item

    result = walk(value, at)
    return None if failed else result


@dataclass(frozen=True, slots=True)
class _At:
    """One step's path and source, for the action builders."""

    at: tuple[PathPart, ...]
    source: _Source

    def key(self, *keys: PathPart) -> tuple[PathPart, ...]:
        return (*self.at, *keys)

    def problem(self, message: str, *keys: PathPart, key: bool = False) -> None:
        self.source.problem(message, self.key(*keys), key=key)

    @property
    def step(self) -> str:
        return self.source.describe(self.at)


Builder = Callable[[Mapping[str, Any], dict[str, Any], _At], Step | None]


def _get_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    since = None
    if "since" in raw:
        if raw["get"] not in SINCE_GETTERS:
            takes = ", ".join(sorted(SINCE_GETTERS))
            at.problem(f'"since" {_within(at.at, at.source.data)} only works with getters that '
                       f'keep a history ({takes}), not "{raw["get"]}"', "since", key=True)
            return None
        since = at.source.expression(at.key("since"), raw["since"])
        if since is None:
            return None
    return GetStep(get=raw["get"], since=since, **common)


def _read_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    spec = raw["read"]
    if SETTINGS[spec["setting"]].write_only:
        at.problem(f'setting "{spec["setting"]}" is write-only: it cannot be read back',
                   "read", "setting")
        return None
    ok, target = _setting_target(spec, at, "read")
    return ReadStep(setting=spec["setting"], target=target, **common) if ok else None


def _setting_target(spec: Mapping[str, Any], at: _At, action: str
                    ) -> tuple[bool, Template | None]:
    """(fine?, compiled target or None): a target exactly when the setting is addressed."""
    setting = SETTINGS[spec["setting"]]
    if setting.target and "target" not in spec:
        at.problem(f'setting "{setting.key}" needs a target (the {setting.target}) '
                   f"{_within(at.key(action), at.source.data)}", action)
        return False, None
    if not setting.target and "target" in spec:
        at.problem(f'setting "{setting.key}" has no target; remove "target"', action, "target",
                   key=True)
        return False, None
    if "target" not in spec:
        return True, None
    target = at.source.template(at.key(action, "target"), spec["target"])
    return target is not None, target


def _set_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    spec = raw["set"]
    ok, target = _setting_target(spec, at, "set")
    value = at.source.template(at.key("set", "value"), spec["value"])
    if not ok or value is None:
        return None
    allowed = SETTINGS[spec["setting"]].values
    if allowed and value.is_literal and value.source not in allowed:
        at.problem(f'"{value.source}" is not a value of setting "{spec["setting"]}" '
                   f"(values: {', '.join(allowed)})", "set", "value")
        return None
    return SetStep(setting=spec["setting"], target=target, value=value, **common)


def _command_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    command = raw["command"]
    if isinstance(command, Mapping):
        commands = {vendor: at.source.template(at.key("command", vendor), text)
                    for vendor, text in command.items()}
    else:
        template = at.source.template(at.key("command"), command)
        commands = dict.fromkeys(raw["vendors"], template)
    expect_output = _patterns(raw, "expect_output", at)
    reject_output = _patterns(raw, "reject_output", at)
    if any(t is None for t in commands.values()) or expect_output is None \
            or reject_output is None:
        return None
    return CommandStep(commands={v: t for v, t in commands.items() if t is not None},
                       expect_output=expect_output, reject_output=reject_output,
                       changes=raw.get("changes", False), **common)


def _patterns(raw: Mapping[str, Any], key: str, at: _At) -> tuple[OutputPattern, ...] | None:
    patterns = []
    for number, text in enumerate(raw.get(key, [])):
        try:
            patterns.append(OutputPattern(text, re.compile(text, re.MULTILINE)))
        except re.error as exc:
            at.problem(f"bad regular expression in {at.source.describe(at.key(key, number))}: "
                       f"{exc}", key, number)
            return None
    return tuple(patterns)


def _ask_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    spec = raw["ask"]
    kind = AnswerType(spec["type"])
    if "choices" in spec and kind is not AnswerType.CHOICE:
        at.problem(f'"choices" only go with type "choice" (this question is "{kind}")',
                   "ask", "choices", key=True)
        return None
    question = at.source.template(at.key("ask", "question"), spec["question"])
    if question is None:
        return None
    return AskStep(key=spec["key"], question=question, type=kind,
                   choices=tuple(spec.get("choices", ())), **common)


def _wait_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    spec = raw["wait"]
    condition = at.source.expression(at.key("wait", "until"), spec["until"])
    if condition is None:
        return None
    interval = float(spec.get("interval", 5.0))
    if interval > spec["timeout"]:
        at.problem(f"the interval ({interval:g}s) is longer than the timeout "
                   f"({spec['timeout']:g}s)", "wait", "interval")
        return None
    return WaitStep(get=spec["get"], condition=condition, timeout=float(spec["timeout"]),
                    interval=interval, **common)


def _backup_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    return BackupStep(**common)


def _include_step(raw: Mapping[str, Any], common: dict[str, Any], at: _At) -> Step | None:
    target = _include_path(raw["include"], at)
    if target is None:
        return None
    includes = at.source.includes
    node = _value_node(at.source.root, at.key("include"))
    origin = (node.start_mark.line + 1, node.start_mark.column + 1)
    try:
        playbook = _load(str(_shown(target)), includes)
    except PlaybookInvalidError as exc:
        at.source.issues.extend(_foreign(problem, origin) for problem in exc.problems)
        return None
    except PlaybookError as exc:
        if exc.line is None:  # unreadable: the problem is the include line itself
            at.problem(f'cannot include "{raw["include"]}": {exc.message}', "include")
        else:
            at.source.issues.append(_foreign(exc, origin))
        return None
    return IncludeStep(include=raw["include"], playbook=playbook, **common)


def _include_path(written: str, at: _At) -> Path | None:
    """Resolve an include inside the top playbook's folder; refuse escapes and cycles."""
    includes = at.source.includes
    base = Path(at.source.path).resolve().parent if at.source.path else includes.root
    relative = Path(written)
    target = (base / relative).resolve()
    problem = None
    if relative.is_absolute() or not target.is_relative_to(includes.root):
        problem = (f'include "{written}" is outside the playbook folder {includes.root}: '
                   "a playbook may only include files beside or below it")
    elif relative.suffix not in (".yaml", ".yml"):
        problem = f'include "{written}" is not a playbook file (.yaml or .yml)'
    elif target in includes.chain:
        loop = [*includes.chain[includes.chain.index(target):], target]
        problem = "include cycle: " + " → ".join(path.name for path in loop)
    elif len(includes.chain) >= MAX_INCLUDE_DEPTH:
        problem = f"includes nest more than {MAX_INCLUDE_DEPTH} deep"
    if problem:
        at.problem(problem, "include")
        return None
    return target


def _shown(target: Path) -> Path:
    """A path as the user would write it (relative to the working directory when inside)."""
    try:
        return target.relative_to(Path.cwd())
    except ValueError:
        return target


def _foreign(problem: PlaybookError, origin: tuple[int, int]) -> _Issue:
    """A problem in an included file keeps that file's path and position."""
    return _Issue(problem.message, problem.line or 1, problem.column or 1,
                  path=problem.path, origin=origin)


#: Action key → step builder (the order is the order actions are named in messages).
_STEP_BUILDERS: dict[str, Builder] = {
    "get": _get_step,
    "read": _read_step,
    "command": _command_step,
    "set": _set_step,
    "ask": _ask_step,
    "wait": _wait_step,
    "backup": _backup_step,
    "include": _include_step,
}


def _on_failure(raw: Mapping[str, Any]) -> OnFailure:
    priority = raw.get("priority")
    return OnFailure(priority=Priority(priority) if priority else None,
                     summary=raw.get("summary"))


def _expectation(at: tuple[PathPart, ...], text: str, source: _Source) -> Expectation | None:
    """Compile one ``expect`` entry now, so a typo is caught before the line is dialled."""
    expression = source.expression(at, text)
    return Expectation(expression, source.where(at)) if expression is not None else None


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
        for name in step.get("vars") or {}:
            if name in RESERVED_NAMES:
                at = ("steps", index, "vars")
                node = _key_node(root, at, name)
                message = (f'var "{name}" {_within(at[:-1], data)} would hide the built-in '
                           f'"{name}"; pick another name')
                issues.append(_issue_at(message, node, at))
        name = step.get("register")
        if name in RESERVED_NAMES:
            at = ("steps", index, "register")
            message = (f'register "{name}" {_within(at[:-1], data)} would hide the built-in '
                       f'"{name}"; pick another name')
            issues.append(_issue_at(message, _value_node(root, at), at))
    return issues


def _duplicate_ask_keys(playbook: Playbook) -> list[_Issue]:
    """One answer per key in a run, included playbooks too: a second ask would overwrite it."""
    first: dict[str, AskStep] = {}
    issues = []
    for step in playbook.walk():
        if not isinstance(step, AskStep):
            continue
        earlier = first.setdefault(step.key, step)
        if earlier is step or step.where is None:
            continue
        message = (f'answer key "{step.key}" is already asked by step "{earlier.name}" '
                   f"({earlier.where}); each question needs its own key")
        issues.append(_Issue(message, step.where.line, step.where.column,
                             path=step.where.path))
    return issues
