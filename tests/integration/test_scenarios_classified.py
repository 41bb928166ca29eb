"""Every fault scenario, both vendors, through the real stack: the priority a ticket gets.

Simulator over real SSH → driver → shipped health check → RunResult → classification.
This is what the support desk would see for each classic fault in DOMAIN.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.inventory import CredentialRef, Site
from agent.playbook import RunOptions, load_playbook
from agent.result import RunStatus
from agent.runner import run_site
from agent.tickets import classify
from simulators import load_scenario, serve_ssh

PASSWORD = "scenario-Pw-2231"
HEALTH_CHECK = Path(__file__).resolve().parents[2] / "playbooks" / "health-check.yaml"

#: scenario → (expected priority or None for "no ticket", a possible non-covered cause?)
EXPECTED: dict[str, tuple[str | None, bool]] = {
    "healthy": (None, False),
    "total-system-failure": ("P1", False),
    "digital-trunks-down": ("P2", False),
    "analogue-trunks-busied-out": ("P2", False),
    "one-trunk-dead": ("P3", False),
    "extension-card-failure": ("P3", False),
    "power-and-battery": ("P3", True),
    "restart-after-power-cut": ("P3", True),
}
#: The Toshiba site also has PRI trunks, which stay up when its analogue lines are busied
#: out: external calls still work, so it is an inconvenience, not a major failure.
VENDOR_EXPECTED: dict[tuple[str, str], tuple[str | None, bool]] = {
    ("toshiba", "analogue-trunks-busied-out"): ("P3", False),
}


@pytest.fixture
def site_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("PBXDIAG_SCENARIO_PASSWORD", PASSWORD)
    servers: list[object] = []

    def make(scenario: str, vendor: str) -> Site:
        server = serve_ssh(load_scenario(scenario), host_key_path=tmp_path / "host_key",
                           password=PASSWORD)
        endpoint = server.__enter__()
        servers.append(server)
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(endpoint.known_hosts_line() + "\n")
        return Site(id=scenario, customer="Acme Ltd", name="Bolton", vendor=vendor,
                    paths=(f"ssh://INSTALLER@127.0.0.1:{endpoint.port}",),
                    known_hosts=known_hosts,
                    credentials=CredentialRef("INSTALLER", "PBXDIAG_SCENARIO_PASSWORD"))

    yield make
    for server in servers:
        server.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.mark.parametrize("vendor", ["panasonic", "toshiba"])
@pytest.mark.parametrize("situation", sorted(EXPECTED))
def test_scenario_priority(site_for: object, tmp_path: Path, vendor: str,
                           situation: str) -> None:
    site = site_for(f"{vendor}-{situation}", vendor)  # type: ignore[operator]
    options = RunOptions(in_working_hours=False)  # the night-mode check must not depend on now
    result, _ = run_site(site, load_playbook(HEALTH_CHECK), output_dir=tmp_path / "out",
                         options=options)
    expected, non_covered = VENDOR_EXPECTED.get((vendor, situation), EXPECTED[situation])
    verdict = classify(result)
    if expected is None:
        assert result.status is RunStatus.PASSED, [s.name for s in result.failed_steps]
        assert verdict is None
        return
    assert result.status is RunStatus.FAILED
    assert verdict is not None
    assert verdict.priority == expected, (verdict.rule, verdict.summary)
    assert (verdict.non_covered is not None) == non_covered, verdict.non_covered
