"""Which cards are processors, extension cards and trunk cards: the drivers say.

Card types are vendor knowledge, so each driver declares its card families (the type
without its trailing port count) as class attributes of the contract (``drivers/base.py``)
and classification looks them up through the driver registry by the run's vendor. A run
that does not say its vendor (a result written before it was recorded) is judged against
every installed driver's families together, which is what the one shared table did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drivers import available_drivers
from drivers.base import Driver


@dataclass(frozen=True, slots=True)
class CardFamilies:
    processors: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    trunks: frozenset[str] = frozenset()

    @classmethod
    def of(cls, drivers: Iterable[type[Driver]]) -> CardFamilies:
        chosen = list(drivers)
        return cls(processors=frozenset().union(*(d.processor_cards for d in chosen)),
                   extensions=frozenset().union(*(d.extension_cards for d in chosen)),
                   trunks=frozenset().union(*(d.trunk_cards for d in chosen)))


def families_for(vendor: str | None) -> CardFamilies:
    """The vendor's driver's card families; every driver's, when the vendor is unknown."""
    drivers = available_drivers()
    if vendor is not None and vendor in drivers:
        return CardFamilies.of([drivers[vendor]])
    return CardFamilies.of(drivers.values())


def card_family(card_type: str) -> str:
    """``DLC16`` -> ``DLC``, ``IP-EXT16`` -> ``IP-EXT``: models differ only in port count."""
    return re.sub(r"\d+$", "", card_type.strip().upper())


def is_processor(card: Mapping[str, Any], families: CardFamilies) -> bool:
    """The main processor: a known processor type, any ``…MPR``, or whatever sits in slot 0."""
    family = card_family(str(card.get("type", "")))
    if family in families.processors or family.endswith("MPR"):
        return True
    slot = location(card).get("slot")
    return slot == 0 and family not in families.extensions | families.trunks


def is_extension_card(card: Mapping[str, Any], families: CardFamilies) -> bool:
    return card_family(str(card.get("type", ""))) in families.extensions


def is_trunk_card(card: Mapping[str, Any], families: CardFamilies) -> bool:
    return card_family(str(card.get("type", ""))) in families.trunks


def location(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """A record's ``location`` mapping (empty when it has none)."""
    where = record.get("location")
    return where if isinstance(where, Mapping) else {}
