"""``make screenshots``: the board as a person sees it, rendered to docs/ for the README.

Not a benchmark, but a sibling of one: it drives the whole product on simulators. Four
simulated PBXs with injected faults are served over real SSH on loopback, the shipped
health check runs against each through the real stack and files its tickets in a fresh
register, ``pbxdiag serve`` serves that register, and headless Chromium (Debian's
``chromium`` + ``chromium-driver``) logs in and saves the board and one ticket as PNG.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCENARIOS = {
    "acme-bolton": ("panasonic-dead-trunk-card", "panasonic", "Acme Ltd"),
    "harbour-hotel": ("panasonic-total-system-failure", "panasonic", "Harbour Hotel"),
    "mill-surgery": ("toshiba-extension-card-failure", "toshiba", "Mill Lane Surgery"),
    "kirk-estates": ("toshiba-one-trunk-dead", "toshiba", "Kirk Estates"),
}
SITE = """\
  {site}:
    customer: {customer}
    vendor: {vendor}
    contract: standard
    paths: ["ssh://INSTALLER@127.0.0.1:{port}"]
    known_hosts: known_hosts
    credentials: {{username: INSTALLER, password_env: PBXDIAG_SHOT_PASSWORD}}
"""


def file_tickets(work: Path) -> Path:
    from agent.diagnose import diagnose
    from agent.inventory import load_inventory
    from agent.paths import SHIPPED_PLAYBOOKS
    from agent.playbook import load_playbook
    from simulators import load_scenario, serve_ssh

    password = secrets.token_urlsafe(12)
    os.environ["PBXDIAG_SHOT_PASSWORD"] = password
    db = work / "tickets.db"
    playbook = load_playbook(SHIPPED_PLAYBOOKS / "health-check.yaml")
    for site_id, (scenario, vendor, customer) in SCENARIOS.items():
        with serve_ssh(load_scenario(scenario), host_key_path=work / f"{site_id}.key",
                       password=password) as endpoint:
            (work / "known_hosts").write_text(endpoint.known_hosts_line() + "\n")
            inventory = work / f"{site_id}.yaml"
            inventory.write_text("contracts:\n  standard:\n    calendar: {nation: england}\n"
                                 "sites:\n" + SITE.format(site=site_id, customer=customer,
                                                          vendor=vendor, port=endpoint.port))
            site = load_inventory(inventory).site(site_id)
            diagnose(site, playbook, output_dir=work / site_id, db_path=db)
    return db


def main() -> int:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    work = Path(tempfile.mkdtemp(prefix="pbxdiag-shots-"))
    db = file_tickets(work)
    users = work / "users.yaml"
    subprocess.run([sys.executable, "-m", "agent.cli", "users", "add", "desk", "--role",
                    "engineer", "--password-stdin", "--users", str(users)],
                   input="screenshot-pass\n", text=True, check=True, timeout=60)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--bind",
                               f"127.0.0.1:{port}", "--db", str(db), "--users", str(users)])
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1400,900",
                     "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        WebDriverWait(driver, 30, ignored_exceptions=(Exception,)).until(
            lambda d: d.get(f"http://127.0.0.1:{port}/login") is None
            and d.find_elements(By.ID, "login"))
        driver.find_element(By.NAME, "name").send_keys("desk")
        driver.find_element(By.NAME, "password").send_keys("screenshot-pass")
        driver.find_element(By.CSS_SELECTOR, "#login button").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "board"))
        driver.save_screenshot(str(DOCS / "board.png"))
        driver.find_element(By.CSS_SELECTOR, "#rows a").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "evidence"))
        driver.save_screenshot(str(DOCS / "board-ticket.png"))
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=10)
    print(f"wrote {DOCS / 'board.png'} and {DOCS / 'board-ticket.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
