"""A noisy line is a line problem, never a fault of the customer's PBX (issues 12 and 13).

Random bytes are inserted into what the simulated PBX sends and receives, at rates up to
1e-2 per byte (a very bad modem line). On a healthy PBX no run may file a ticket at any
rate; on a PBX with a dead extension card, every run at 1e-3 either files the right ticket
(that card, and nothing else) or says the line was unusable (exit 3) — never a wrong one.
The whole stack runs: telnet line, real driver, engine, classification, register.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.diagnose import diagnose
from agent.errors import EXIT_CHECKS_FAILED, EXIT_OK, EXIT_UNREACHABLE
from agent.inventory import CredentialRef, Site
from agent.playbook import load_playbook
from agent.tickets import Register
from simulators import load_scenario
from simulators.lines import LineConditions, serve_telnet

from .conftest import HEALTH_CHECK, PASSWORD, PASSWORD_VARIABLE

RATES = (1e-3, 3e-3, 1e-2)
SEEDS = (11, 12, 13, 14, 15)


def _site(url: str) -> Site:
    return Site(id="noisy", customer="Acme Ltd", name="Bolton", vendor="panasonic",
                paths=(url,), credentials=CredentialRef(username="INSTALLER",
                                                        password_env=PASSWORD_VARIABLE),
                timeout=4, reach_timeout=30)


def _run(scenario: str, rate: float, seed: int, tmp_path: Path) -> tuple[int, list[str]]:
    pbx = load_scenario(scenario)
    conditions = LineConditions(noise_rate=rate, noise_seed=seed)
    db = tmp_path / f"{scenario}-{rate}-{seed}.db"
    with serve_telnet(pbx, password=PASSWORD, conditions=conditions) as endpoint:
        diagnosis = diagnose(_site(endpoint.url), load_playbook(HEALTH_CHECK),
                             output_dir=tmp_path / "out", db_path=db)
    with Register(db) as register:
        opened = [t.signature for t in register.list_tickets()]
    return diagnosis.exit_code, opened


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)


@pytest.mark.parametrize("rate", RATES)
def test_noise_on_a_healthy_pbx_files_no_ticket(rate: float, tmp_path: Path) -> None:
    codes = []
    for seed in SEEDS:
        code, opened = _run("panasonic-healthy", rate, seed, tmp_path)
        assert opened == [], (rate, seed, opened)
        assert code in (EXIT_OK, EXIT_UNREACHABLE), (rate, seed, code)
        codes.append(code)
    if rate == RATES[0]:
        assert EXIT_OK in codes  # the sweep did reach and read the PBX, not only fail


def test_noise_on_a_pbx_with_a_dead_card_files_the_right_ticket_or_says_the_line_is_bad(
        tmp_path: Path) -> None:
    right = "component:extensions/cab 1 slot 01"
    filed = 0
    for seed in (*SEEDS, 16):
        code, opened = _run("panasonic-extension-card-failure", 1e-3, seed, tmp_path)
        assert code in (EXIT_CHECKS_FAILED, EXIT_UNREACHABLE), (seed, code, opened)
        if code == EXIT_CHECKS_FAILED:
            assert opened == [right], (seed, opened)
            filed += 1
        else:
            assert opened == [], (seed, opened)
    assert filed > 0  # at 1e-3 the fault does get through
