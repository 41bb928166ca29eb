"""Dialled numbers and caller IDs masked before they are stored (``mask_dialled: true``).

UK GDPR: a call record names the people a customer's staff rang. With masking on, only
the first ``KEEP`` digits of each number survive (enough for the call's area or network,
which is what fault finding needs); the rest become ``X`` — in the record's fields *and*
in its raw line, so nothing stored or exported holds the full number. Masking is
deterministic, so a re-read of a masked record still equals the stored one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from agent.smdr.reader import Item

KEEP: Final = 5
FIELDS: Final = ("dialled", "caller_id")


def mask_number(text: str) -> str:
    """``01612449456`` -> ``01612XXXXXX``; non-digits (``<I>``, ``*``, ``#``) are kept."""
    seen = 0
    out = []
    for char in text:
        if char.isdigit():
            seen += 1
            out.append(char if seen <= KEEP else "X")
        else:
            out.append(char)
    return "".join(out)


def mask_item(item: Item) -> Item:
    """The record with its numbers masked everywhere; alarm lines are returned as they are."""
    if item.kind != "record":
        return item
    data = dict(item.data)
    raw = item.raw
    for name in FIELDS:
        value = str(data.get(name) or "")
        if len(value) > KEEP:
            masked = mask_number(value)
            data[name] = masked
            raw = raw.replace(value, masked)
    data["raw"] = raw
    return replace(item, raw=raw, data=data)
