"""The worst case of issue 13: ``busy-out-trunk.yaml --apply`` over the modem, the trunk
busied out, then its read-back garbled. The run is recorded, flagged PBX MAY BE / LEFT
HALF-PROGRAMMED, exits 4, files no customer ticket, and the modem is on-hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from agent.tickets import Register
from simulators import PbxState
from simulators.lines import PhoneBook, serve_modem

from .conftest import NUMBER, PASSWORD, modem_url

REPO = Path(__file__).resolve().parents[2]
INVENTORY = """\
sites:
  over-modem:
    customer: Acme Ltd
    name: Bolton
    vendor: panasonic
    paths: ["{url}"]
    timeout: 10
    credentials: {{username: INSTALLER, password_env: PBXDIAG_MODEM_TEST_PW}}
"""


def test_a_garbled_read_back_after_a_write_over_the_modem_is_recorded_and_flagged(
        pbx: PbxState, tmp_path: Path) -> None:
    trunk = pbx.co_lines()[0].number
    # The read before the write is answered truly; every read after it is garbage.
    pbx.inject_fault("garbled_reply", command=f"READ 410 {trunk:02d}", reply="410 = IN5",
                     after=1)
    book = PhoneBook()
    book.add_site(NUMBER, pbx, password=PASSWORD)
    with serve_modem(book, state_dir=tmp_path / "modem") as modem:
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(INVENTORY.format(url=modem_url(modem)))
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", "run", str(REPO / "playbooks/busy-out-trunk.yaml"),
             "--site", "over-modem", "--inventory", str(inventory), "--db",
             str(tmp_path / "tickets.db"), "--output", str(tmp_path / "out"),
             "--var", f"trunk={trunk}", "--apply", "--json"],
            env={**os.environ, "PBXDIAG_MODEM_TEST_PW": PASSWORD,
                 "XDG_DATA_HOME": str(tmp_path / "xdg")},
            capture_output=True, text=True, timeout=180, check=False)
        assert modem.modem.wait_on_hook(10), "the modem was left off-hook"

    assert done.returncode == 4, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "HALF-PROGRAMMED" in done.stderr
    result = json.loads(done.stdout)
    assert result["half_programmed"] is True and result["tickets"] == []
    change = next(s for s in result["steps"] if s["name"] == "CO line busied out")
    assert change["status"] == "error" and "IN5" in change["message"]
    saved = json.loads((Path(result["transcript"]).parent / "result.json").read_text())
    assert saved["half_programmed"] is True  # recorded on disk, not only printed
    assert Path(result["transcript"]).read_text().count("WRITE 410") >= 1
    with Register(tmp_path / "tickets.db") as register:
        assert register.list_tickets() == []
