"""``make screenshots``: the pre-visit pack of simulated sites rendered into docs/.

Not a test (``make test`` does not run it): it builds the packs the browser tests build,
opens each in headless Chromium and saves a PNG beside the docs, plus the dead-trunk
pack's HTML itself as a sample.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.e2e.test_pack_browser import CHROMEDRIVER, REPO, make_pack

SHOTS = {"panasonic-dead-trunk-card": "pack-dead-trunk-card.png",
         "panasonic-power-and-battery": "pack-power-fault.png"}


def main() -> None:
    docs = REPO / "docs" / "images"
    docs.mkdir(parents=True, exist_ok=True)
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for scenario, name in SHOTS.items():
                pack = make_pack(scenario, Path(tmp) / scenario, customer="Acme Ltd")
                browser.set_window_size(1100, 800)
                browser.get(pack.as_uri())
                height = browser.execute_script("return document.body.scrollHeight")
                browser.set_window_size(1100, min(int(height) + 40, 4000))
                browser.save_screenshot(str(docs / name))
                print(f"wrote {docs / name}")
                if scenario == "panasonic-dead-trunk-card":
                    shutil.copy(pack, docs / "pack-dead-trunk-card.html")
                    (docs / "pack-dead-trunk-card.html").chmod(0o644)
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
