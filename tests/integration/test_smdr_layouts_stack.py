"""Every SMDR layout through the whole stack: a scenario sets the layout, the simulator
prints its calls on its SMDR port — over TCP after the ``SMDR`` login, and on its RS-232
SMDR output (a pty opened with pyserial) — and the project's parser reads them back:
the fields, not the text, compared with the calls the scenario made. What each layout
prints is restated here from shared/DOMAIN.md, not taken from the simulator's renderer
or the parser, so neither reading checks itself."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import date, datetime, timedelta
from time import monotonic
from typing import Any

import pytest
import serial

from drivers.panasonic.smdr import parse_stream as panasonic
from drivers.smdr import SmdrRecord, SmdrStream
from drivers.toshiba.smdr import parse_stream as toshiba
from simulators import CallKind, CallRecord, PbxState, SystemEvent, parse_scenario, serve_smdr
from simulators.lines.smdr_serial import serve_smdr_pty

DEADLINE = 10.0
CLOCK = datetime(2026, 3, 20, 17, 0)  # days 18-20 over 12: the stream tells its order
SCENARIO = """\
base: {vendor}-healthy
clock: 2026-03-20 17:00:00
smdr: {{calls: 60, span: 2d, seed: 5, {smdr}}}
"""
LAYOUTS = [
    ("panasonic", "layout: A", "panasonic-A"),
    ("panasonic", "layout: A, time: 12h", "panasonic-A"),
    ("panasonic", "layout: A, date_order: MDY, time: 12h", "panasonic-A"),
    ("panasonic", "layout: B", "panasonic-B"),
    ("panasonic", "layout: B, date_order: MDY", "panasonic-B"),
    ("panasonic", "layout: C, time: 12h", "panasonic-C"),
    ("panasonic", "layout: hybrid", "panasonic-hybrid"),
    ("toshiba", "layout: R1.02", "toshiba-R1.02"),
    ("toshiba", "layout: R1.03", "toshiba-R1.03"),
    ("toshiba", "layout: DK", "toshiba-DK"),
]


def co_call(r: CallRecord) -> bool:
    return r.kind is not CallKind.INTERCOM and not r.progress and r.co is not None


def expected(r: CallRecord | SystemEvent, layout: str) -> tuple[Any, ...] | None:
    """What the layout prints of one call or system event (None: nothing), as the
    parser's fields."""
    if isinstance(r, SystemEvent):  # Toshiba CTX/CIX print a restart as an I record
        assert r.kind == "restart"
        return ((r.when, "", "", "", "", "", 0, "I", "other")
                if layout in ("toshiba-R1.02", "toshiba-R1.03") else None)
    kind = {CallKind.INCOMING: "incoming", CallKind.OUTGOING: "outgoing",
            CallKind.INTERCOM: "intercom"}[r.kind]
    answered = r.ended - timedelta(seconds=r.duration_s or 0)
    if layout in ("panasonic-A", "panasonic-B", "panasonic-C"):
        at = None if r.clock_changed else r.ended.replace(second=0)
        digits = 4 if layout == "panasonic-C" else 2
        dial = (f"EXT{r.number}" if r.kind is CallKind.INTERCOM else
                (f"<D>{r.ddi}" if r.ddi else "") + f"<I>{r.number}"
                if r.kind is CallKind.INCOMING else r.number)
        cost = ""
        if layout == "panasonic-B" and r.kind is CallKind.OUTGOING:  # 5p a started minute
            pence = -(-(r.duration_s or 0) // 60) * 5
            cost = f"GB{pence // 100:05d}.{pence % 100:02d}"
        return (at, r.extension, "" if r.co is None else f"{r.co:0{digits}d}", dial,
                r.number if r.kind is CallKind.INCOMING else "",
                None if layout == "panasonic-B" else r.ring_s, r.duration_s, cost,
                r.account_code, r.condition, kind)
    if layout == "panasonic-hybrid":  # CO calls only; no ringing or answered records
        if not co_call(r):
            return None
        return (r.ended.replace(second=0), "" if r.condition == "NA" else r.extension,
                f"{r.co:02d}", f"<I>{r.number}" if r.kind is CallKind.INCOMING else r.number,
                r.number if r.kind is CallKind.INCOMING else "", None, r.duration_s or 0,
                "", r.account_code, "TR" if r.condition == "TR" else "", kind)
    if layout == "toshiba-DK":  # CO calls only, the time of day
        if not co_call(r):
            return None
        return (f"{answered:%H:%M}", r.extension, f"{r.co:02d}",
                r.number if r.kind is CallKind.OUTGOING else "", r.duration_s or 0,
                r.account_code if r.kind is CallKind.OUTGOING else "", kind)
    if r.progress:  # Toshiba CTX/CIX: no progress records
        return None
    record_type = "B" if r.condition == "NA" else "X" if r.condition == "TR" else "N"
    stamp = r.ended if r.kind is CallKind.INCOMING and record_type != "N" else answered
    return (stamp, r.extension, "" if r.co is None else str(r.co),
            r.number if r.kind is CallKind.OUTGOING else "",
            r.number if r.kind is CallKind.INCOMING else "",
            r.ddi if r.kind is CallKind.INCOMING else "", r.duration_s or 0, record_type,
            kind)


def fields(r: SmdrRecord, layout: str) -> tuple[Any, ...]:
    """The parsed record in ``expected``'s shape."""
    if layout.startswith("panasonic"):
        return (r.at, r.extension, r.co, r.dialled, r.caller_id, r.ring, r.duration, r.cost,
                r.account_code, r.condition, r.direction.value)
    if layout == "toshiba-DK":
        return (r.at_text, r.extension, r.co, r.dialled, r.duration, r.account_code,
                r.direction.value)
    return (r.at, r.extension, r.co, r.dialled, r.caller_id, r.ddi, r.duration, r.condition,
            r.direction.value)


def parse(text: str, vendor: str, today: date) -> SmdrStream:
    return panasonic(text) if vendor == "panasonic" else toshiba(text, today=today)


class Logger:
    """A call logger on the SMDR port: the login, then whatever the PBX prints."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=DEADLINE)
        self.data = b""

    def read_until(self, marker: bytes) -> None:
        deadline = monotonic() + DEADLINE
        while marker not in self.data:
            assert monotonic() < deadline, f"no {marker!r} in {self.data[-200:]!r}"
            self.read()

    def read(self) -> bytes:
        chunk = self.sock.recv(65536)
        assert chunk, f"the SMDR port closed: {self.data[-200:]!r}"
        self.data += chunk
        return chunk

    def login(self) -> None:
        self.read_until(b"\r\n-")
        self.sock.sendall(b"SMDR\r\n")
        self.read_until(b"Enter Password:")
        self.sock.sendall(b"PCCSMDR\r\n")
        self.data = b""


def read_back(pbx: PbxState, vendor: str, layout: str, wanted: list[tuple[Any, ...]],
              line: str) -> tuple[SmdrStream, list[tuple[Any, ...]]]:
    """Read the SMDR port until the parser has read as many records as the scenario
    made (an ``&`` line may come in a later segment: read on until the fields match)."""
    today = pbx.now().date()

    def until_read(receive: Callable[[], bytes]) -> tuple[SmdrStream, list[tuple[Any, ...]]]:
        data, deadline = b"", monotonic() + DEADLINE
        while True:
            stream = parse(data.decode("latin-1"), vendor, today)
            got = [fields(i.record, layout) for i in stream.items if i.record]
            if got == wanted or monotonic() > deadline:
                return stream, got
            data += receive()

    if line == "tcp":
        with serve_smdr(pbx) as endpoint:
            logger = Logger(endpoint.host, endpoint.port)
            try:
                logger.login()
                return until_read(logger.read)
            finally:
                logger.sock.close()
    with serve_smdr_pty(pbx) as device, serial.Serial(device, 9600, timeout=DEADLINE) as port:
        port.write(b"\r")  # wakes the printout, as on the maintenance port
        return until_read(lambda: port.read(max(1, port.in_waiting)))


@pytest.mark.parametrize("line", ["tcp", "serial"])
@pytest.mark.parametrize(("vendor", "smdr", "layout"), LAYOUTS,
                         ids=[f"{v}-{s}" for v, s, _ in LAYOUTS])
def test_each_layout_reads_back_the_calls_the_scenario_made(vendor: str, smdr: str,
                                                           layout: str, line: str) -> None:
    pbx = parse_scenario(SCENARIO.format(vendor=vendor, smdr=smdr),
                         host_clock=lambda: CLOCK)
    printed = [item for _, item in pbx.smdr_items()
               if isinstance(item, CallRecord | SystemEvent)]
    calls = [item for item in printed if isinstance(item, CallRecord)]
    wanted = [e for r in printed if (e := expected(r, layout)) is not None]
    assert len(wanted) >= 20  # enough calls of each kind to mean something
    assert any(r.kind is CallKind.INCOMING and r.ddi for r in calls)
    stream, got = read_back(pbx, vendor, layout, wanted, line)
    assert got == wanted
    assert stream.layout == layout  # told from the stream itself: nothing pinned
    assert not [i for i in stream.items if i.kind == "error"]
    if "MDY" in smdr or layout == "panasonic-hybrid":
        assert stream.date_order == "MDY" and stream.date_order_told
