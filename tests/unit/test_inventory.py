"""Inventory loading: good files become Sites, bad ones name their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import InventoryError
from agent.inventory import load_inventory

GOOD = """\
contracts:
  gold:
    major_response_hours: 2
    calendar:
      nation: scotland
sites:
  acme-bolton:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    contract: gold
    paths: ["ssh://INSTALLER@127.0.0.1:2222"]
    known_hosts: keys/known_hosts
    credentials:
      username: INSTALLER
      password_env: ACME_PBX_PASSWORD
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def test_good_inventory_resolves_relative_paths_and_contract(tmp_path: Path) -> None:
    site = load_inventory(write(tmp_path, GOOD)).site("acme-bolton")
    assert site.title == "Acme Ltd, Bolton"
    assert site.known_hosts == tmp_path / "keys" / "known_hosts"
    assert site.contract_terms["major_response_hours"] == 2
    assert site.paths == ("ssh://INSTALLER@127.0.0.1:2222",)


def test_password_comes_from_environment_as_secret(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_PBX_PASSWORD", "s3cret-value")
    creds = load_inventory(write(tmp_path, GOOD)).site("acme-bolton").credentials.resolve()
    assert creds.password is not None
    assert creds.password.reveal() == "s3cret-value"
    assert "s3cret" not in repr(creds) and "s3cret" not in str(creds.password)


def test_missing_password_variable_is_input_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_PBX_PASSWORD", raising=False)
    site = load_inventory(write(tmp_path, GOOD)).site("acme-bolton")
    with pytest.raises(InventoryError, match="ACME_PBX_PASSWORD"):
        site.credentials.resolve()


@pytest.mark.parametrize(("text", "line", "fragment"), [
    (GOOD.replace("    vendor: panasonic\n", "    vendor: panasonic\n    vendr: x\n"), 11,
     "unknown key 'vendr'"),
    (GOOD.replace("contract: gold", "contract: platinum"), 11, "unknown contract 'platinum'"),
    (GOOD.replace('paths: ["ssh://INSTALLER@127.0.0.1:2222"]', "paths: []"), 12, "paths"),
    (GOOD.replace("nation: scotland", "nation: narnia"), 5, "nation"),
    ("sites:\n  a: [unclosed\n", 3, "invalid YAML"),
    ("", 1, "empty"),
])
def test_bad_inventory_reports_file_and_line(tmp_path: Path, text: str, line: int,
                                             fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert fragment in caught.value.message


def test_unknown_site_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="acme-bolton"):
        load_inventory(write(tmp_path, GOOD)).site("nowhere")
