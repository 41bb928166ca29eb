"""Every documented SMDR layout through the whole stack: the simulator prints it on its
SMDR port, the real ``pbxdiag smdr monitor`` reads it (the layout told from the stream,
nothing pinned) and stores every call record in the register — one monitor, one site per
layout, both vendors."""

from __future__ import annotations

from simulators import CallRecord, SystemEvent, parse_scenario, start_smdr_server
from tests.integration.test_smdr_layouts_stack import CLOCK, LAYOUTS, SCENARIO, expected
from tests.smdr.conftest import SMDR_PASSWORD, Bench, SmdrSite


def test_every_layout_is_read_by_the_monitor_into_the_register(bench: Bench) -> None:
    wanted: dict[str, int] = {}
    names: dict[str, str] = {}
    for number, (vendor, smdr, layout) in enumerate(LAYOUTS):
        pbx = parse_scenario(SCENARIO.format(vendor=vendor, smdr=smdr),
                             host_clock=lambda: CLOCK)
        printed = [item for _, item in pbx.smdr_items()
                   if isinstance(item, CallRecord | SystemEvent)]
        site_id = f"site-{number}"
        names[site_id] = f"{vendor} {smdr}"
        wanted[site_id] = sum(1 for r in printed if expected(r, layout) is not None)
        assert wanted[site_id] >= 20
        bench.sites[site_id] = SmdrSite(site_id, vendor, pbx,
                                        start_smdr_server(pbx, password=SMDR_PASSWORD))
    bench.write_inventory()
    bench.start_monitor()
    for site_id, count in wanted.items():
        bench.wait_until(lambda s=site_id, n=count: len(bench.stored(s)) >= n,
                         f"{site_id}'s records ({names[site_id]})")
    assert bench.stop().returncode == 0
    for site_id, count in wanted.items():
        assert len(bench.stored(site_id)) == count, names[site_id]  # each once


def test_the_monitor_reads_a_serial_smdr_line_with_no_login(bench: Bench) -> None:
    """An RS-232 SMDR output (what a call logger's cable plugs into): ``login: none``, and
    a CR on opening (``wake=%0D``) where the far end prints only once it sees a byte."""
    from contextlib import ExitStack

    from simulators import load_scenario
    from simulators.lines.smdr_serial import serve_smdr_pty

    pbx = load_scenario("toshiba-healthy")
    want = [i for _, i in pbx.smdr_items() if isinstance(i, CallRecord | SystemEvent)
            and expected(i, "toshiba-R1.02") is not None]  # what its default layout prints
    assert want
    with ExitStack() as stack:
        device = stack.enter_context(serve_smdr_pty(pbx))
        bench.inventory.write_text(
            "sites:\n  serial-site:\n    customer: Acme Ltd\n    vendor: toshiba\n"
            '    paths: ["tcp://127.0.0.1:1"]\n'
            f'    smdr_link: {{url: "serial://{device}?baud=9600&wake=%0D", login: none,'
            " timeout: 10,"
            " reconnect_max_seconds: 1}\n")
        bench.start_monitor()
        bench.wait_until(lambda: len(bench.stored("serial-site")) >= len(want),
                         "the serial line's records")
        assert bench.stop().returncode == 0
    assert len(bench.stored("serial-site")) == len(want)
