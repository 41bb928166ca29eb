"""YAML loading that remembers where every value came from, for ``file:line`` errors.

Inventories, playbooks and scenarios are written by hand; a mistake must be reported at
its line, not as a traceback. ``load`` composes the node tree (which carries marks) and
builds plain Python data from it, keeping a map from each key path to its position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.errors import InputError
from agent.yamlguard import check_limits, unbuildable

KeyPath = tuple[str | int, ...]


@dataclass(slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(slots=True)
class YamlSource:
    path: str
    data: Any
    positions: dict[KeyPath, Position] = field(default_factory=dict)
    key_positions: dict[KeyPath, Position] = field(default_factory=dict)

    def where(self, path: KeyPath, *, key: bool = False) -> Position:
        """Position of a value (or its key), else of the nearest enclosing value."""
        table = self.key_positions if key else self.positions
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), Position(1, 1))

    def error(self, error_cls: type[InputError], message: str, path: KeyPath, *,
              key: bool = False) -> InputError:
        pos = self.where(path, key=key)
        return error_cls(message, path=self.path, line=pos.line, column=pos.column)


def load(path: Path, error_cls: type[InputError] = InputError) -> YamlSource:
    """Read and parse a YAML file; any failure is ``error_cls`` with file:line:column."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise error_cls(f"cannot read file: {err}", path=str(path)) from None
    return loads(text, str(path), error_cls)


def loads(text: str, name: str, error_cls: type[InputError] = InputError) -> YamlSource:
    check_limits(text, name, error_cls)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            raise error_cls("the file is empty", path=name, line=1, column=1)
        data = yaml.SafeLoader("").construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        if mark is None:
            raise error_cls(f"invalid YAML: {problem}", path=name) from None
        raise error_cls(f"invalid YAML: {problem}", path=name, line=mark.line + 1,
                        column=mark.column + 1) from None
    except yaml.reader.ReaderError as err:
        line, column = _position(text, err.position)
        code = err.character if isinstance(err.character, int) else ord(err.character)
        raise error_cls(f"invalid YAML: {err.reason} (character U+{code:04X})", path=name,
                        line=line, column=column) from None
    except yaml.YAMLError as err:
        raise error_cls(f"invalid YAML: {err}", path=name, line=1, column=1) from None
    except ValueError:  # a scalar the resolver accepts but cannot build (2026-13-45)
        raise unbuildable(node, name, error_cls) from None
    source = YamlSource(path=name, data=data)
    _record(node, (), source)
    return source


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    head = text[:offset]
    return head.count("\n") + 1, offset - (head.rfind("\n") + 1) + 1


def _record(node: yaml.Node, path: KeyPath, source: YamlSource) -> None:
    source.positions[path] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            source.key_positions[child] = Position(key_node.start_mark.line + 1,
                                                   key_node.start_mark.column + 1)
            _record(value_node, child, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, (*path, index), source)


def validate(source: YamlSource, schema: dict[str, Any],
             error_cls: type[InputError] = InputError) -> None:
    """Check data against a JSON Schema; the first error (in file order) is raised."""

    found = problems(source, schema, error_cls)
    if found:
        raise found[0]


def problems(source: YamlSource, schema: dict[str, Any],
             error_cls: type[InputError] = InputError) -> list[InputError]:
    """Every schema error, located and in file order (``validate`` raises the first)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    located = [_locate(source, err) for err in validator.iter_errors(source.data)]
    located.sort(key=lambda item: (item[0].line, item[0].column))
    return [error_cls(message, path=source.path, line=pos.line, column=pos.column)
            for pos, message in located]


def _locate(source: YamlSource, err: Any) -> tuple[Position, str]:
    path: KeyPath = tuple(err.absolute_path)
    where = ".".join(str(p) for p in path) or "top level"
    if err.validator == "additionalProperties":
        # keys may be None (``~``) or numbers among text: compare them as text
        extra = sorted((k for k in err.instance if k not in err.schema.get("properties", {})),
                       key=str)
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        key = extra[0] if extra else ""
        return (source.where((*path, str(key)), key=True),
                f"unknown key {key!r} in {where} (allowed: {allowed})")
    if err.validator == "required":
        return source.where(path), f"{where}: {err.message}"
    return source.where(path), f"{where}: {err.message}"
