"""The pre-visit pack opened in headless Chromium (Debian's chromium + chromium-driver).

Three simulated sites — a dead trunk card, a dead extension card, a power fault — each get
a real pre-visit run through the CLI over SSH, which files the ticket and writes the pack.
One browser session then opens every pack: no console errors, the faulty slot marked in
the cabinet drawing, and the parts list naming the right items with their stock status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from simulators import load_scenario, serve_ssh
from tests.e2e.conftest import PASSWORD, PASSWORD_VARIABLE, REPO

CHROMEDRIVER = "/usr/bin/chromedriver"
SCENARIOS = ("panasonic-dead-trunk-card", "panasonic-extension-card-failure",
             "panasonic-power-and-battery")
STOCK = """\
KX-TDA0180: {quantity: 2, location: "store room shelf B3"}
psu: {quantity: 1, location: "van 2"}
"""
INVENTORY = """\
contracts:
  standard:
    calendar: {{nation: england}}
sites:
  {site}:
    customer: "{customer}"
    name: Harrogate
    vendor: panasonic
    paths: ["ssh://INSTALLER@127.0.0.1:{port}"]
    known_hosts: known_hosts
    timeout: 10
    credentials: {{username: INSTALLER, password_env: {variable}}}
"""


def pbxdiag(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PASSWORD_VARIABLE: PASSWORD, "XDG_DATA_HOME": str(workdir / "xdg")}
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


#: The customer's name holds a script: the pack must show it as text and never run it.
HOSTILE_CUSTOMER = "Acme <script>window.injected = 1</script> Ltd"


def make_pack(scenario: str, workdir: Path, customer: str = HOSTILE_CUSTOMER) -> Path:
    """A pre-visit run (which writes the pack), then ``pbxdiag pack`` with the stock list."""
    workdir.mkdir(parents=True)
    pbx = load_scenario(scenario)
    with serve_ssh(pbx, host_key_path=workdir / "host_key", password=PASSWORD) as endpoint:
        (workdir / "known_hosts").write_text(endpoint.known_hosts_line() + "\n")
        inventory = workdir / "inventory.yaml"
        inventory.write_text(INVENTORY.format(site=scenario, port=endpoint.port,
                                              customer=customer,
                                              variable=PASSWORD_VARIABLE))
        run = pbxdiag(workdir, "run", str(REPO / "playbooks" / "pre-visit.yaml"), "--site",
                      scenario, "--inventory", str(inventory), "--db", str(workdir / "t.db"),
                      "--output", str(workdir / "out"))
        assert run.returncode == 1, run.stderr  # checks failed: the fault was found
        assert f"pack:      {workdir / 'out' / 'packs' / scenario}-pre-visit.html" in run.stdout
    (workdir / "stock.yaml").write_text(STOCK)
    done = pbxdiag(workdir, "pack", "--site", scenario, "--inventory", str(inventory),
                   "--db", str(workdir / "t.db"), "--data", str(workdir / "out"),
                   "--stock", str(workdir / "stock.yaml"), "--output", str(workdir / "pack"))
    assert done.returncode == 0, done.stderr
    return workdir / "pack" / f"{scenario}-pre-visit.html"


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("packs")
    return {scenario: make_pack(scenario, root / scenario) for scenario in SCENARIOS}


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_pack(browser: webdriver.Chrome, path: Path) -> None:
    browser.get(path.as_uri())
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    # the customer's name held a <script>: shown as text, never run
    assert browser.execute_script("return window.injected === undefined")
    assert "<script>window.injected = 1</script>" in browser.find_element(By.TAG_NAME, "h1").text
    # self-contained: nothing loaded from anywhere but the file itself
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []


def faulty_slots(browser: webdriver.Chrome) -> list[str]:
    return [g.get_attribute("data-slot") or "" for g in
            browser.find_elements(By.CSS_SELECTOR, "svg.cabinet g.slot.faulty")]


def parts(browser: webdriver.Chrome) -> dict[str, list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#parts tr.part")
    return {row.get_attribute("data-key") or "": [td.text for td in
                                                   row.find_elements(By.TAG_NAME, "td")]
            for row in rows}


def test_dead_trunk_card(browser: webdriver.Chrome, packs: dict[str, Path]) -> None:
    open_pack(browser, packs["panasonic-dead-trunk-card"])
    assert faulty_slots(browser) == ["3"]
    listed = parts(browser)
    assert list(listed) == ["LCOT8"]
    item, number, why, stock, ticket = listed["LCOT8"]
    assert (item, number) == ("8-port analogue trunk card (LCOT8)", "KX-TDA0180")
    assert "slot 03" in why
    assert stock.startswith("in stock — take from store room shelf B3")
    assert ticket.startswith("FR-") and "parts due" in ticket  # a P2: parts promised


def test_dead_extension_card(browser: webdriver.Chrome, packs: dict[str, Path]) -> None:
    open_pack(browser, packs["panasonic-extension-card-failure"])
    assert faulty_slots(browser) == ["1"]
    listed = parts(browser)
    assert list(listed) == ["DLC16"]
    item, number, _why, stock, _ticket = listed["DLC16"]
    assert (item, number) == ("16-port digital extension card (DLC16)", "KX-TDA0172")
    assert stock == "order for next-day delivery"


def test_power_fault(browser: webdriver.Chrome, packs: dict[str, Path]) -> None:
    open_pack(browser, packs["panasonic-power-and-battery"])
    assert faulty_slots(browser) == []  # a power fault is no card's
    listed = parts(browser)
    assert set(listed) == {"psu", "ac-cord", "mpr", "fan-unit", "shelf-fan"}
    assert listed["psu"][1] == "part number: check the cabinet"
    assert listed["psu"][3] == "in stock — take from van 2 (1 held)"
    assert "#010" in listed["psu"][2] and "#011" in listed["psu"][2]
    assert listed["ac-cord"][3] == "order for next-day delivery"
