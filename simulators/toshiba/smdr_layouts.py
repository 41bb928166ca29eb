"""Toshiba SMDR in the layouts other than the R1.02 dialect (shared/DOMAIN.md).

- **CTX/CIX R1.03 and later**, by the documented columns (1-based): record type 1,
  record number 3–5, node 7–12, originator 14–22, terminator 24–32, ``MO/DD HH:MM:SS``
  34–47, duration ``HH:MM:SS.S`` 49–58, dialled digits 60–91. A station is ``DN`` and
  its number; a trunk ``T`` + outgoing line group (3) + trunk (3) + B-channel (2), and
  ``A`` instead of ``T`` for an unsupervised trunk (here: the analogue loop-start lines,
  which give no answer or release supervision). The second line starting ``&``: caller
  ID 3–19, DISA 21–24, ANI 26–38, DNIS 40–46, AUXID1 48–54, AUXID2 56–62.
- **Strata DK** printouts, one line per CO call: CO line (2 digits), station, ``HH:MM``,
  duration ``HH:MM;SS``, then ring time ``M'SS`` (incoming), the dialled digits and the
  account code (outgoing). Intercom calls are not printed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from simulators.records import CallKind, CallRecord

RECORD_NUMBERS = 128  # the record number is three digits and wraps
LINE_GROUP = 1
NODE = 0
DIALLED_WIDTH = 32


def _trunk(co: int | None, unsupervised: frozenset[int]) -> str:
    if co is None:
        return "-"
    return f"{'A' if co in unsupervised else 'T'}{LINE_GROUP:03d}{co % 1000:03d}00"


def r103_line(head: tuple[str, int], parties: tuple[str, str], when: datetime,
              seconds: int, dialled: str = "") -> str:
    """One R1.03 record line in its columns (trailing blanks not printed); ``head`` is
    (record type, record number)."""
    kind, record_no = head
    seconds = min(seconds, 99 * 3600 + 59 * 60 + 59)
    length = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.0"
    text = (f"{kind} {record_no % RECORD_NUMBERS:03d} {NODE:>6} {parties[0]:<9} "
            f"{parties[1]:<9} {when:%m/%d %H:%M:%S} {length} {dialled[:DIALLED_WIDTH]}")
    return text.rstrip()


def r103_call(r: CallRecord, kind: str, unsupervised: frozenset[int]) -> list[str]:
    """The record line, and the ``&`` line for an incoming call with caller ID or DNIS."""
    station = f"DN{r.extension}"
    answered = r.ended - timedelta(seconds=r.duration_s or 0)
    seconds = r.duration_s or 0
    if r.kind is CallKind.INTERCOM:
        return [r103_line((kind, r.record_no), (station, f"DN{r.number}"), answered, seconds)]
    trunk = _trunk(r.co, unsupervised)
    if r.kind is CallKind.OUTGOING:
        return [r103_line((kind, r.record_no), (station, trunk), answered, seconds, r.number)]
    lines = [r103_line((kind, r.record_no), (trunk, station),
                       answered if kind == "N" else r.ended, seconds)]
    if r.number or r.ddi:  # caller ID 3–19, DISA 21–24, ANI 26–38, DNIS 40–46
        lines.append(f"& {r.number[:17]:<17} {'':4} {r.number[:13]:<13} {r.ddi[:7]}"
                     .rstrip())
    return lines


def dk_call(r: CallRecord) -> list[str]:
    """One DK printout line for a CO call; nothing for an intercom call."""
    if r.kind is CallKind.INTERCOM or r.progress or r.co is None:
        return []
    seconds = min(r.duration_s or 0, 99 * 3600 + 59 * 60 + 59)
    answered = r.ended - timedelta(seconds=seconds)
    fields = [f"{r.co % 100:02d} ", r.extension, f"{answered:%H:%M}",
              f"{seconds // 3600:02d}:{seconds // 60 % 60:02d};{seconds % 60:02d}"]
    if r.kind is CallKind.INCOMING and r.ring_s is not None:
        fields.append(f"{min(r.ring_s, 599) // 60}'{r.ring_s % 60:02d}")
    if r.kind is CallKind.OUTGOING:
        fields += [r.number, r.account_code] if r.account_code else [r.number]
    return [" ".join(fields)]
