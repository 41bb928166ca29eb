"""The parts to bring, derived from a run's evidence through the vendor's catalogue.

The catalogue is data shipped beside the driver (``drivers/<vendor>/parts.yaml``): card
type → part number and description, error code → remedy and what it needs beyond the
named card (a PSU and AC cord for a power alarm, a network termination for a digital
trunk out of sync). A card the PBX reports as not in service needs its replacement; an
alarm on a slot needs the card in that slot when its remedy says so. Each part is then
looked up in the office's stock list (part number → quantity and location; an item
without a part number by its catalogue name).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.errors import InputError
from agent.yamlsource import load as load_yaml
from drivers import driver_class

#: Rows read from a stock list (an office keeps hundreds of lines, not millions).
MAX_STOCK_ROWS = 10_000
CHECK_THE_CABINET = "part number: check the cabinet"


@dataclass(frozen=True, slots=True)
class Item:
    key: str  # the card type or the catalogue's item name: how stock without a number is kept
    part: str | None
    description: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    vendor: str
    cards: Mapping[str, Item]
    items: Mapping[str, Item]
    #: error code → (remedy, items brought: catalogue item names, or "card")
    alarms: Mapping[str, tuple[str, tuple[str, ...]]]


@dataclass(frozen=True, slots=True)
class StockEntry:
    quantity: int
    location: str


@dataclass(slots=True)
class PartNeed:
    """One item to bring, why, and whether the office has it."""

    item: Item
    reasons: list[str] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)
    slots: set[tuple[int, int]] = field(default_factory=set)
    stock: StockEntry | None = None
    ticket: str | None = None
    parts_due: str | None = None

    @property
    def part_label(self) -> str:
        return self.item.part or CHECK_THE_CABINET

    @property
    def in_stock(self) -> bool:
        return self.stock is not None and self.stock.quantity > 0

    @property
    def availability(self) -> str:
        if self.stock is not None and self.stock.quantity > 0:
            return f"in stock — take from {self.stock.location} ({self.stock.quantity} held)"
        return "order for next-day delivery"


def catalogue_path(vendor: str) -> Path:
    """``parts.yaml`` beside the vendor's driver package."""
    module = sys.modules[driver_class(vendor).__module__]
    return Path(str(module.__file__)).parent / "parts.yaml"


def load_catalogue(vendor: str) -> Catalogue:
    path = catalogue_path(vendor)
    if not path.exists():
        return Catalogue(vendor, {}, {}, {})
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cards = {str(k): Item(str(k), v.get("part"), str(v["description"]))
             for k, v in (data.get("cards") or {}).items()}
    items = {str(k): Item(str(k), v.get("part"), str(v["description"]))
             for k, v in (data.get("items") or {}).items()}
    alarms = {str(k): (str(v.get("remedy", "")), tuple(str(b) for b in v.get("bring") or ()))
              for k, v in (data.get("alarms") or {}).items()}
    return Catalogue(vendor, cards, items, alarms)


def load_stock(path: Path) -> dict[str, StockEntry]:
    """``stock.yaml`` (part: {quantity, location}) or a CSV (part,quantity,location with a
    header line); a bad entry is bad input at its line."""
    if path.suffix.lower() == ".csv":
        return _stock_csv(path)
    source = load_yaml(path)
    if not isinstance(source.data, dict):
        raise InputError("a stock list maps part numbers to {quantity, location}",
                         path=str(path), line=1, column=1)
    stock: dict[str, StockEntry] = {}
    for number, (part, entry) in enumerate(source.data.items()):
        if number >= MAX_STOCK_ROWS:
            raise source.error(InputError, f"more than {MAX_STOCK_ROWS} parts", (part,))
        if not isinstance(entry, dict) or not isinstance(entry.get("quantity"), int) \
                or isinstance(entry.get("quantity"), bool):
            raise source.error(InputError, f"{part}: give quantity: N (and location: ...)",
                               (part,))
        stock[str(part).strip()] = StockEntry(entry["quantity"], str(entry.get("location", "")))
    return stock


def _stock_csv(path: Path) -> dict[str, StockEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read file: {err}", path=str(path)) from None
    rows = csv.reader(text.splitlines())
    stock: dict[str, StockEntry] = {}
    for line, row in enumerate(rows, start=1):
        if line > MAX_STOCK_ROWS:
            raise InputError(f"more than {MAX_STOCK_ROWS} rows", path=str(path), line=line)
        if not row or (line == 1 and row[0].strip().lower() in ("part", "part number")):
            continue
        if len(row) < 2 or not row[1].strip().isdigit():
            raise InputError("expected part,quantity,location", path=str(path), line=line,
                             column=1)
        stock[row[0].strip()] = StockEntry(int(row[1]), row[2].strip() if len(row) > 2 else "")
    return stock


def _slot(location: Any) -> tuple[int, int] | None:
    if isinstance(location, dict) and location.get("slot") is not None:
        return int(location.get("cabinet") or 1), int(location["slot"])
    return None


def parts_needed(catalogue: Catalogue, facts: Mapping[str, Any],
                 stock: Mapping[str, StockEntry] | None = None) -> list[PartNeed]:
    """What to bring for the cards out of service and the alarms of the run."""
    cards = {slot: card for card in facts.get("cards") or []
             if (slot := _slot(card.get("location"))) is not None}
    needs: dict[str, PartNeed] = {}

    def need(item: Item, reason: str, *, code: str | None = None,
             slot: tuple[int, int] | None = None) -> None:
        entry = needs.setdefault(item.key, PartNeed(item))
        if reason not in entry.reasons:
            entry.reasons.append(reason)
        if code:
            entry.codes.add(code)
        if slot:
            entry.slots.add(slot)

    for slot, card in sorted(cards.items()):
        if card.get("status") != "in_service":
            need(card_item(catalogue, card), f"slot {slot[1]:02d} {card.get('type')} is "
                 f"{card.get('status')}", slot=slot)
    for alarm in _alarms(facts):
        code = str(alarm.get("code"))
        remedy = catalogue.alarms.get(code)
        if remedy is None or alarm.get("recovery"):
            continue
        text, bring = remedy
        slot = _slot(alarm.get("location"))
        for name in bring:
            if name == "card":
                card = cards.get(slot) if slot else None
                if card is not None:
                    need(card_item(catalogue, card), f"#{code} {text}", code=code, slot=slot)
            elif name in catalogue.items:
                need(catalogue.items[name], f"#{code} {text}", code=code)
    found = list(needs.values())
    for entry in found:
        entry.stock = _in_stock(entry.item, stock or {})
    return found


def card_item(catalogue: Catalogue, card: Mapping[str, Any]) -> Item:
    """The catalogue's entry for a card type (the exact type, else its family), or one
    named by what the PBX reported."""
    kind = str(card.get("type") or "")
    if kind in catalogue.cards:
        return catalogue.cards[kind]
    family = kind.rstrip("0123456789")
    for known, item in catalogue.cards.items():
        if known.rstrip("0123456789") == family and family:
            return Item(kind, None, f"{item.description.split('(')[0].strip()} ({kind})")
    return Item(kind, None, f"{kind} card (model {card.get('model_number') or 'unknown'})")


def _alarms(facts: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """Active alarms, then error-log failures not yet cleared by a recovery."""
    yield from facts.get("alarms") or []
    for entry in facts.get("error_log") or []:
        if not entry.get("cleared_at"):
            yield entry


def _in_stock(item: Item, stock: Mapping[str, StockEntry]) -> StockEntry | None:
    for key in (item.part, item.key):
        if key and key in stock:
            return stock[key]
    return None
