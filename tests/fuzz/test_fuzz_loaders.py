"""Fuzz the YAML loaders: inventory, playbook, scenario (issue 13 #3).

Each loader must either load the file or raise its own ``InputError`` (``InventoryError``,
``PlaybookError``, ``ScenarioError``) naming the file — the CLI turns that into
``file:line:col: message`` and exit 2 — and nothing else: no ``TypeError`` from a null
key, no ``RecursionError`` from nesting, no ``ValueError`` from a long integer.
Inputs are the shipped files, damaged (``mutations.py``), and YAML-shaped noise.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from agent.errors import InputError, InventoryError, PlaybookError, ScenarioError
from agent.inventory import load_inventory
from agent.playbook import load_playbook
from simulators.scenario import SCENARIO_DIR, load_scenario

from .budget import scaled
from .mutations import mutated
from .strategies import LINE_CHARACTERS

REPO = Path(__file__).resolve().parents[2]
INVENTORY = """\
contracts:
  gold:
    major_response_hours: 2
    calendar: {nation: scotland, start: "08:30", end: "18:00"}
sites:
  acme-bolton:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    model: KX-TDE200
    contract: gold
    paths:
      - ssh://INSTALLER@10.1.2.3:22
      - modem:///dev/ttyUSB0?number=01204368634
    known_hosts: known_hosts
    timeout: 10
    smdr: {layout: B, date_order: DMY}
    credentials: {username: INSTALLER, password_env: ACME_BOLTON_PBX_PASSWORD}
  acme-leeds:
    customer: Acme Ltd
    vendor: toshiba
    paths: ["telnet://10.1.2.4:23"]
    credentials: {username: admin, password_env: ACME_LEEDS_PBX_PASSWORD}
notifications:
  email: {host: smtp.example.net, from: desk@example.net, to: [support@example.net]}
"""
PLAYBOOKS = {path.name: path.read_text() for path in sorted((REPO / "playbooks").glob("*.yaml"))}
SCENARIOS = {path.name: path.read_text() for path in sorted(SCENARIO_DIR.glob("*.yaml"))}

#: YAML-shaped values: what a confused editor or a hostile file may hold.
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                     st.text(LINE_CHARACTERS, max_size=20))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=12), st.integers(), st.none()), inner,
                    max_size=4)), max_leaves=20)
yaml_noise = _values.map(lambda value: yaml.safe_dump(value, allow_unicode=True))


def inventory_texts() -> st.SearchStrategy[str]:
    return st.one_of(mutated(INVENTORY, most=6), yaml_noise,
                     st.text(LINE_CHARACTERS, max_size=200))


def expect_own_error(load: Callable[[Path], Any], path: Path, text: str,
                     errors: type[InputError]) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load(path)
    except errors as exc:
        assert exc.path is not None, f"{type(exc).__name__} without its file: {exc}"
        assert str(path.name) in exc.located()
    except InputError as exc:  # the family, but not this loader's own branch
        pytest.fail(f"{type(exc).__name__} from the {errors.__name__} loader: {exc}")


@pytest.fixture(scope="module")
def workdir() -> Any:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@given(text=inventory_texts())
@example(text="sites: {}\n~: 1\nzebra: 2\n")
@example(text="sites:\n  a: " + "[" * 5000 + "]" * 5000 + "\n")
@example(text="sites: {}\nx: " + "7" * 5000 + "\n")
@example(text="sites: {}\nx: 2026-13-45\n")  # found by this suite: a ValueError
@scaled(60)
def test_inventory_loader_only_raises_inventory_errors(workdir: Path, text: str) -> None:
    expect_own_error(load_inventory, workdir / "sites.yaml", text, InventoryError)


@given(text=st.one_of(st.sampled_from(sorted(PLAYBOOKS))
                      .flatmap(lambda name: mutated(PLAYBOOKS[name], most=6)),
                      yaml_noise))
@example(text="name: x\nsteps: &s\n  - *s\n")
@example(text="name: x\nvars: {n: " + "7" * 5000 + "}\nsteps: []\n")
@example(text="name: x\nvars: {a: 2026-13-45}\nsteps: []\n")  # found: a ValueError
@scaled(60)
def test_playbook_loader_only_raises_playbook_errors(workdir: Path, text: str) -> None:
    expect_own_error(load_playbook, workdir / "playbook.yaml", text, PlaybookError)


@given(text=st.one_of(st.sampled_from(sorted(SCENARIOS))
                      .flatmap(lambda name: mutated(SCENARIOS[name], most=6)),
                      yaml_noise))
@example(text="base: panasonic-healthy\nfaults:\n  - {kind: garbled_reply, command: ''}\n")
@example(text="base: panasonic-healthy\nclock: 2026-13-45T25:61:00\n")  # found: ValueError
@scaled(60)
def test_scenario_loader_only_raises_scenario_errors(workdir: Path, text: str) -> None:
    expect_own_error(load_scenario, workdir / "scenario.yaml", text, ScenarioError)
