"""The inventory's published schema, its reference page and `pbxdiag inventory` (issue 19)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from agent.inventory import SCHEMA
from agent.inventory_reference import PAGE, page_with_reference
from agent.tickets.channels.smtp import EmailSettings
from agent.tickets.channels.webhook import WebhookSettings
from agent.tickets.settings import RetryPolicy
from agent.tickets.sla import Contract, WorkingCalendar


def test_docs_inventory_md_is_generated_from_the_schema() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert page_with_reference(text) == text, \
        "run: python -m agent.inventory_reference --write"


def test_every_key_is_documented() -> None:
    def walk(node: dict, where: str) -> list[str]:
        missing = []
        for key, child in node.get("properties", {}).items():
            if not child.get("description"):
                missing.append(f"{where}.{key}")
            missing += walk(child, f"{where}.{key}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            missing += walk(extra, f"{where}.<name>")
        return missing

    assert walk(SCHEMA, "") == []


def test_documented_defaults_are_the_codes_defaults() -> None:
    contract = SCHEMA["properties"]["contracts"]["additionalProperties"]["properties"]
    terms = Contract(name="x")
    for key in ("major_response_hours", "minor_response_working_hours",
                "parts_working_hours", "remote_access_minutes"):
        assert contract[key]["default"] == getattr(terms, key), key
    assert tuple(contract["escalation_working_hours"]["default"]) == \
        terms.escalation_working_hours
    calendar = contract["calendar"]["properties"]
    cal = WorkingCalendar()
    assert calendar["start"]["default"] == cal.day_start.strftime("%H:%M")
    assert calendar["end"]["default"] == cal.day_end.strftime("%H:%M")
    email = SCHEMA["properties"]["notifications"]["properties"]["email"]["properties"]
    assert email["port"]["default"] == EmailSettings.__dataclass_fields__["port"].default
    assert email["timeout"]["default"] == EmailSettings.__dataclass_fields__["timeout"].default
    hook = SCHEMA["properties"]["notifications"]["properties"]["webhook"]["properties"]
    assert hook["timeout"]["default"] == WebhookSettings.__dataclass_fields__["timeout"].default
    retry = SCHEMA["properties"]["notifications"]["properties"]["retry"]["properties"]
    assert retry["max_attempts"]["default"] == RetryPolicy().max_attempts


def test_the_published_schema_is_valid_json_schema() -> None:
    run = subprocess.run([sys.executable, "-m", "agent.cli", "inventory", "schema"],
                         capture_output=True, text=True, timeout=60, check=True)
    jsonschema.Draft202012Validator.check_schema(json.loads(run.stdout))


def test_validate_reports_every_problem_without_connecting(tmp_path: Path) -> None:
    inventory = tmp_path / "sites.yaml"
    inventory.write_text(
        "sites:\n"
        "  good:\n    customer: A\n    vendor: panasonic\n    paths: [ssh://u@127.0.0.1:22]\n"
        "  bad-url:\n    customer: B\n    vendor: panasonic\n"
        "    paths: [\"telnet://127.0.0.1:23?baud=9600\"]\n"
        "  bad-password:\n    customer: C\n    vendor: panasonic\n"
        "    paths: [ssh://u@127.0.0.1:22]\n"
        "    credentials: {password_env: PBXDIAG_TEST_SURELY_UNSET_VARIABLE}\n")
    run = subprocess.run([sys.executable, "-m", "agent.cli", "inventory", "validate",
                          str(inventory), "--json"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 2
    problems = json.loads(run.stdout)["problems"]  # one report (issue 19)
    assert [(p["line"], p["column"]) for p in problems] == [(9, 13), (14, 33)]
    assert "unknown option(s) baud" in problems[0]["message"]
    assert "is not set" in problems[1]["message"]
    schema_broken = tmp_path / "broken.yaml"
    schema_broken.write_text("sites:\n  a:\n    customer: A\n    colour: red\n"
                             "    vendor: panasonic\n    paths: [ssh://x:1]\n  b: 7\n")
    run = subprocess.run([sys.executable, "-m", "agent.cli", "inventory", "validate",
                          str(schema_broken)], capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 2
    assert f"{schema_broken}:4:5: unknown key 'colour'" in run.stderr
    assert f"{schema_broken}:7:6:" in run.stderr  # the second problem is reported too
