"""The SMDR call generator: plausible, deterministic call traffic for a simulated site.

Given a seed and the site, the same calls come out every time. Calls only use what works
at that moment — extensions that are up, CO lines in service — so a site with every trunk
down shows only intercom calls, and no call ends while the PBX was down (a power cut
leaves a gap). Records are vendor-neutral ``CallRecord``s; each dialect prints its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from simulators.records import CallKind, CallRecord, CoLine, Extension, Status
from simulators.state import PbxState

#: Relative weights of the kinds of call the generator makes.
CALL_MIX: tuple[tuple[str, int], ...] = (
    ("outgoing", 34), ("incoming", 28), ("unanswered", 8), ("intercom", 14),
    ("transfer", 6), ("forward", 4), ("account", 6),
)
WORKING_HOURS = (7, 19)


@dataclass(frozen=True, slots=True)
class _Usable:
    extensions: list[Extension]
    lines: list[CoLine]


class CallGenerator:
    """Makes calls for one ``PbxState``; ``seed`` fixes the sequence."""

    def __init__(self, pbx: PbxState, seed: int = 0) -> None:
        self._pbx = pbx
        self._rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not secrets

    # --- public -------------------------------------------------------------------------

    def history(self, calls: int, span: timedelta, *, end: datetime | None = None) -> int:
        """Fill the buffer with up to ``calls`` calls ending within ``span`` before ``end``.

        Calls are spread evenly with some jitter, mostly in working hours; any that would
        fall in an outage are skipped. Returns how many calls were made.
        """
        end = end or self._pbx.now()
        start = end - span
        step = span / max(calls, 1)
        records: list[CallRecord] = []
        made = 0
        for i in range(calls):
            ended = start + step * i + timedelta(seconds=self._rng.uniform(0, step.total_seconds()))
            if not self._busy_hour(ended):
                continue
            call = self._call(ended.replace(microsecond=0), check_clock=False)
            if call:
                records += call
                made += 1
        self._pbx.add_smdr_history(records)
        return made

    def next_call(self, *, ended: datetime | None = None) -> list[CallRecord]:
        """One call ending now (or at ``ended``), printed on SMDR at once. [] if none possible."""
        when = (ended or self._pbx.now()).replace(microsecond=0)
        records = self._call(when, check_clock=True)
        self._pbx.add_calls(records)
        return records

    def _busy_hour(self, when: datetime) -> bool:
        """Offices call in working hours: most out-of-hours slots stay empty."""
        return WORKING_HOURS[0] <= when.hour < WORKING_HOURS[1] or self._rng.random() < 0.15

    # --- one call -----------------------------------------------------------------------

    def _usable(self) -> _Usable:
        exts = [e for e in self._pbx.extensions() if e.status in ("IDLE", "BUSY")]
        lines = [x for x in self._pbx.co_lines() if x.status is Status.INS]
        return _Usable(exts, lines)

    def _call(self, ended: datetime, *, check_clock: bool) -> list[CallRecord]:
        usable = self._usable()
        kind = self._rng.choices([k for k, _ in CALL_MIX], [w for _, w in CALL_MIX])[0]
        if not usable.lines:
            kind = "intercom"
        if not usable.extensions or (kind == "intercom" and len(usable.extensions) < 2):
            return []
        ext = self._rng.choice(usable.extensions)
        duration = self._duration()
        if self._pbx.in_outage(ended) or self._pbx.in_outage(ended - timedelta(seconds=duration)):
            return []
        changed = check_clock and self._pbx.clock_changed_between(
            ended - timedelta(seconds=duration), ended)
        records = self._records(kind, ext, usable, ended, duration)
        if changed:
            records[-1] = replace(records[-1], clock_changed=True)
        return records

    def _records(self, kind: str, ext: Extension, usable: _Usable, ended: datetime,
                 duration: int) -> list[CallRecord]:
        if kind == "intercom":
            other = self._rng.choice([e for e in usable.extensions if e is not ext])
            return [CallRecord(ended, ext.number, CallKind.INTERCOM, other.number,
                               duration_s=duration)]
        co = self._rng.choice(usable.lines).number
        if kind in ("incoming", "unanswered", "transfer"):
            return self._incoming(kind, ext, co, ended, duration)
        number = self._external_number()
        condition = "FW" if kind == "forward" else ""
        account = f"{self._rng.randrange(10**4):04d}" if kind == "account" else ""
        return [CallRecord(ended, ext.number, CallKind.OUTGOING, number, co=co,
                           duration_s=duration, account_code=account, condition=condition)]

    def _incoming(self, kind: str, ext: Extension, co: int, ended: datetime,
                  duration: int) -> list[CallRecord]:
        """Ringing (RC), answered (AN), then the final record — or RC then NA."""
        caller = self._external_number() if self._rng.random() < 0.85 else ""
        ddi = f"{self._rng.randrange(2000, 2999)}" if self._rng.random() < 0.3 else ""
        ring = self._rng.randint(2, 40)

        def record(when: datetime, condition: str, ring_s: int | None = None,
                   duration_s: int | None = None) -> CallRecord:
            return CallRecord(when, ext.number, CallKind.INCOMING, caller, co=co, ddi=ddi,
                              ring_s=ring_s, duration_s=duration_s, condition=condition)

        if kind == "unanswered":
            ring = self._rng.randint(30, 90)
            return [record(ended - timedelta(seconds=ring), "RC"),
                    record(ended, "NA", ring, 0)]
        answered = ended - timedelta(seconds=duration)
        final = "TR" if kind == "transfer" else ""
        return [record(answered - timedelta(seconds=ring), "RC"),
                record(answered, "AN", ring),
                record(ended, final, ring, duration)]

    def _duration(self) -> int:
        """Mostly short calls, a few long ones (seconds)."""
        return min(int(self._rng.expovariate(1 / 150)) + 3, 4 * 3600)

    def _external_number(self) -> str:
        if self._rng.random() < 0.35:
            return "07" + "".join(str(self._rng.randrange(10)) for _ in range(9))
        area = self._rng.choice(("0113", "0161", "0151", "0114", "01423", "020"))
        return area + "".join(str(self._rng.randrange(10)) for _ in range(11 - len(area)))

