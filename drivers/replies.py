"""Replies we did not expect: every one becomes a ``ParseError`` carrying the raw text.

A PBX on a noisy line, a firmware we have not seen or a console in a strange state can
answer anything: a clock of ``25:61:00``, a trunk state ``IN5``, a CO number of thousands
of digits. None of that is a bug of ours and none of it may crash a run: the driver's
contract is "a typed result or ``ParseError``", so the engine records an error step and
the run still writes its result and transcript. The rules, in one place:

* a number is ASCII digits of a bounded length *before* ``int()`` (``number``);
* a date or time is checked field by field (``moment``);
* a word from a closed set that is not in it is named in the error (``word``);
* whatever slips through a parser anyway is turned into a ``ParseError`` at the driver's
  boundary (``reading``) — a safety net, not the rule: the fuzz suite runs the parsers
  without it.

The raw text is bounded (``shown``) so a megabyte of garbage cannot become a megabyte of
error message, log line and result.json.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from agent.line.errors import ParseError

T = TypeVar("T")

#: How much of an unexpected reply an error carries.
SHOWN_LIMIT = 120
#: What a parser may raise on text it did not foresee; ``reading`` converts these.
UNFORESEEN = (ValueError, KeyError, IndexError, OverflowError, RecursionError, TypeError,
              AttributeError, UnicodeError)


def shown(text: str, limit: int = SHOWN_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how long it really was."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def bounded_lines(bad: list[tuple[int, str]], *, most: int = 20) -> list[tuple[int, str]]:
    """The first ``most`` bad lines, each ``shown``: what a ``ParseError`` carries."""
    return [(number, shown(text)) for number, text in bad[:most]]


def unexpected(what: str, raw: str, *, line: int = 1) -> ParseError:
    """The error for a reply to ``what`` we cannot read, carrying the (bounded) raw text."""
    return ParseError(what, [(line, shown(raw))])


def number(text: str, what: str, *, digits: int) -> int:
    """``text`` as an int: 1 to ``digits`` ASCII digits, checked before ``int()`` (which
    refuses more than 4300 digits with a ValueError, and takes non-ASCII digits)."""
    if not (0 < len(text) <= digits and text.isascii() and text.isdigit()):
        raise unexpected(f"{what} (expected up to {digits} digits)", text)
    return int(text)


def word(raw: str, choices: Mapping[str, T], what: str) -> T:
    """The meaning of the PBX's word ``raw`` from a closed set; an unknown one is named."""
    found = choices.get(raw.strip())
    if found is None:
        raise unexpected(f"{what}: unknown word {shown(raw, 24)!r} "
                         f"(known: {', '.join(choices)})", raw)
    return found


def moment(raw: str, time_format: str, what: str) -> datetime:
    """A date and time in exactly ``time_format`` (a ``strptime`` format); month 13, hour
    25 or minute 61 are a ``ParseError`` naming the reply, not a ``ValueError``.

    Exactly: ``strptime`` also takes ``10:00:0`` (a clock that lost its last character
    on the line) as ten o'clock; a moment must print back as the PBX printed it."""
    text = raw.strip()
    if len(text) > 40 or not text.isascii():
        raise unexpected(what, raw)
    try:
        found = datetime.strptime(text, time_format)
    except ValueError:
        raise unexpected(what, raw) from None
    if found.strftime(time_format) != text:
        raise unexpected(what, raw)
    return found


@contextmanager
def reading(what: str, raw: str) -> Iterator[None]:
    """Parse ``raw`` inside the block: an exception a parser did not foresee is a
    ``ParseError`` about ``what`` with the raw text, never a crash of the run."""
    try:
        yield
    except UNFORESEEN as exc:
        error = unexpected(what, raw)
        error.add_note(f"{type(exc).__name__}: {shown(str(exc), 80)}")
        raise error from exc
