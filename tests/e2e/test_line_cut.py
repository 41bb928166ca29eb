"""The SSH line cut mid-reply: LineDropped, the run recorded as interrupted, no ticket."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators import load_scenario, serve_ssh

from .conftest import PASSWORD, Site


@pytest.fixture
def cut_site(tmp_path: Path) -> Iterator[Site]:
    pbx = load_scenario("panasonic-dead-trunk-card")
    with serve_ssh(pbx, host_key_path=tmp_path / "host_key", password=PASSWORD,
                   drop_after_bytes=600) as endpoint:
        (tmp_path / "known_hosts").write_text(endpoint.known_hosts_line() + "\n")
        site = Site(pbx=pbx, endpoint=endpoint, workdir=tmp_path)
        site.write_inventory()
        yield site


def test_line_cut_mid_run_is_recorded_and_files_no_ticket(cut_site: Site) -> None:
    run = cut_site.run_health_check("--json")
    assert run.returncode == 3, run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "error"
    assert "LineDropped" in result["error"]
    assert Path(result["transcript"]).exists()
    done = [s["name"] for s in result["steps"]]
    assert "System identity" in done and len(done) < 6  # some checks ran, then the cut
    if cut_site.db.exists():
        with sqlite3.connect(cut_site.db) as conn:
            assert conn.execute("SELECT count(*) FROM tickets").fetchone() == (0,)
