"""The import rules of docs/architecture.md, enforced by walking every module's imports.

The rules are what keeps data flowing one way (inventory → line → driver → playbook →
result → tickets/reports): a layer that reaches upward couples a transport to a vendor or
a driver to a playbook, and nothing would notice until the next capability lands on it.
Lazy imports inside functions count: they are imports all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "drivers", "simulators")
MAX_MODULE_LINES = 600
# The only modules of agent/ that may start a simulator (lazily, for rehearsal and demo).
MAY_IMPORT_SIMULATORS = frozenset({"agent.commands.simulate", "agent.demo"})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.module} imports {self.target}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> Iterator[Import]:
    """Every import in one file (top level and lazy), relative ones resolved."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield Import(name, base, path, node.lineno)


def under(target: str, package: str) -> bool:
    return target == package or target.startswith(package + ".")


def violations(root: Path) -> list[str]:
    """Every broken layer rule in the tree at ``root``, one line each."""
    found: list[str] = []
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            for imp in imports_of(root, path):
                rule = broken_rule(imp)
                if rule:
                    found.append(f"{imp}: {rule}")
    return found


def broken_rule(imp: Import) -> str | None:
    src, dst = imp.module, imp.target
    if under(src, "agent.line") and under(dst, "agent") and not under(dst, "agent.line"):
        return "agent.line imports nothing else of agent/"
    if under(src, "agent.line") and (under(dst, "drivers") or under(dst, "simulators")):
        return "agent.line is below the drivers and knows no simulator"
    if under(src, "drivers") and under(dst, "agent") and not under(dst, "agent.line"):
        return "drivers import only agent.line of agent/"
    if (under(src, "agent") or under(src, "drivers")) and under(dst, "simulators") \
            and src not in MAY_IMPORT_SIMULATORS:
        return "only the simulate and demo commands may start a simulator"
    return None


def oversized(root: Path) -> list[str]:
    found = []
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_MODULE_LINES:
                found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_the_project_keeps_its_import_rules() -> None:
    assert violations(ROOT) == []


def test_no_module_is_over_the_size_limit() -> None:
    assert oversized(ROOT) == [], f"split by responsibility (limit {MAX_MODULE_LINES} lines)"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for top in PACKAGES:
        (tmp_path / top).mkdir(exist_ok=True)
    return tmp_path


@pytest.mark.parametrize(("module", "source", "rule"), [
    ("agent/line/bad.py", "from agent.playbook import engine\n",
     "agent.line imports nothing else of agent/"),
    ("agent/line/transports/bad.py", "def f():\n    from ...tickets import register\n",
     "agent.line imports nothing else of agent/"),
    ("agent/line/bad.py", "import drivers.model\n",
     "agent.line is below the drivers"),
    ("drivers/acme/driver.py", "from agent.runner import run\n",
     "drivers import only agent.line"),
    ("drivers/bad.py", "def lazy():\n    import simulators.state\n",
     "only the simulate and demo commands"),
    ("agent/tickets/bad.py", "from simulators import PbxState\n",
     "only the simulate and demo commands"),
])
def test_a_deliberately_wrong_import_is_caught(tmp_path: Path, module: str, source: str,
                                               rule: str) -> None:
    root = _tree(tmp_path, {module: source})
    found = violations(root)
    assert len(found) == 1
    assert rule in found[0]
    assert found[0].startswith(f"{root / module}:")


def test_allowed_imports_pass(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "agent/line/console.py": "from agent.line.errors import LineDropped\nimport pexpect\n",
        "drivers/acme/driver.py": "from agent.line.console import Console\n"
                                  "from drivers import base\n",
        "agent/commands/simulate.py": "def f():\n    from simulators import PbxState\n",
        "agent/playbook/engine.py": "from drivers.base import Driver\n"
                                    "from agent.line import errors\n",
    })
    assert violations(root) == []


def test_an_oversized_module_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"agent/big.py": "x = 1\n" * (MAX_MODULE_LINES + 1)})
    assert oversized(root) == [f"agent/big.py: {MAX_MODULE_LINES + 1} lines"]
