"""``pbxdiag smdr monitor`` and ``smdr calls`` through the real CLI and simulated SMDR ports."""

from __future__ import annotations

import json

from simulators import CallGenerator
from tests.smdr.conftest import Bench


def emitted_records(bench: Bench, site_id: str) -> list[str]:
    """The records the simulator has printed on its SMDR port (its buffer), each as the
    raw line(s) a reader keeps: the simulator's own lines, read back by the parser."""
    from datetime import date

    from drivers.panasonic.smdr import parse_stream as panasonic
    from drivers.toshiba.smdr import parse_stream as toshiba
    from simulators.panasonic import smdr as panasonic_smdr
    from simulators.toshiba import smdr as toshiba_smdr

    site = bench.sites[site_id]
    lines: list[str] = []
    for _, item in site.pbx.smdr_items():
        if site.vendor == "panasonic":
            text = panasonic_smdr.format_item(item)
            lines += [text] if text is not None else []
        else:
            lines += toshiba_smdr.item_lines(item)
    text = "\n".join(lines)
    stream = (panasonic(text) if site.vendor == "panasonic"
              else toshiba(text, today=date.today()))
    return [i.record.raw for i in stream.items if i.record is not None]


def test_records_are_stored_and_shown_by_smdr_calls(bench: Bench) -> None:
    bench.add("bolton", "panasonic-healthy")
    bench.add("leeds", "toshiba-healthy")
    bench.start_monitor()
    bench.wait_streaming(1)
    for site_id in ("bolton", "leeds"):
        CallGenerator(bench.sites[site_id].pbx, seed=3).next_call()
    for site_id in ("bolton", "leeds"):
        bench.wait_until(lambda s=site_id: len(bench.stored(s)) == len(emitted_records(bench, s)),
                         f"{site_id}'s records")
    done = bench.stop()
    assert done.returncode == 0, done.stderr
    shown = bench.pbxdiag("smdr", "calls", "--site", "bolton", "--db", str(bench.db), "--json")
    assert shown.returncode == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [r["record"]["raw"] for r in rows] == emitted_records(bench, "bolton")
