"""docs/inventory.md's key reference, generated from the inventory's JSON Schema.

One source: the schema the loader validates against carries each key's type, default,
description and example, so the page a user reads cannot drift from what is accepted
(a test compares the page with this output). ``python -m agent.inventory_reference
--write`` refreshes the page.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from agent.inventory import SCHEMA
from agent.paths import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs" / "inventory.md"
BEGIN = "<!-- generated from the inventory schema: do not edit by hand -->"
END = "<!-- end of generated reference -->"


def reference() -> str:
    """Markdown tables, one per mapping of the schema, in reading order."""
    parts = [_table(title, node) for title, node in _sections("", SCHEMA)]
    return "\n\n".join(parts) + "\n"


def _sections(prefix: str, node: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        yield (prefix or "top level"), node
        for key, child in properties.items():
            yield from _sections(f"{prefix}.{key}" if prefix else key, child)
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        yield from _sections(f"{prefix}.<name>", extra)
    items = node.get("items")  # a list of mappings (a site's maintenance windows)
    if isinstance(items, Mapping):
        yield from _sections(f"{prefix}[]", items)


def _table(title: str, node: Mapping[str, Any]) -> str:
    required = set(node.get("required", []))
    rows = [f"### `{title}`", "", "| key | type | default | example | what |",
            "| --- | --- | --- | --- | --- |"]
    for key, child in node["properties"].items():
        default = "required" if key in required else _json(child.get("default"), "—")
        example = _json((child.get("examples") or [None])[0], "")
        rows.append(f"| `{key}` | {_type(child)} | {default} | {example} | "
                    f"{child.get('description', '')} |")
    return "\n".join(rows)


def _type(node: Mapping[str, Any]) -> str:
    if "anyOf" in node:
        return " or ".join(_type(choice) for choice in node["anyOf"])
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type", "")
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object":
        return "mapping" if "properties" in node else "mapping of name → …"
    return str(kind)


def _json(value: Any, empty: str) -> str:
    return empty if value is None else f"`{json.dumps(value)}`"


def page_with_reference(text: str) -> str:
    """The page with its generated block replaced by the current reference."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{reference()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    text = PAGE.read_text(encoding="utf-8")
    if "--write" in argv:
        PAGE.write_text(page_with_reference(text), encoding="utf-8")
    else:
        sys.stdout.write(reference())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
