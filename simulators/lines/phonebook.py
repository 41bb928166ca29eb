"""The phone book a simulated modem dials: numbers that reach simulated PBXs, and the
outcomes (BUSY, NO ANSWER, NO DIALTONE) a test tells a number to give.

Apart from the modem because it is the telephone network, not the modem: a bank of
modems shares one book, and a test arranges calls here without touching a modem.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass

from simulators.lines.conditions import LineConditions
from simulators.lines.session import DEFAULT_USERNAME, SessionMaker, login_session_maker
from simulators.state import PbxState


class Outcome(enum.StrEnum):
    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no answer"
    NO_DIALTONE = "no dialtone"


@dataclass(slots=True)
class Site:
    """A number that reaches a simulated PBX."""

    pbx: PbxState
    make_session: SessionMaker
    conditions: LineConditions
    answer_after: float = 0.0  # seconds of ringing before the PBX's modem answers


@dataclass(slots=True)
class _Override:
    outcome: Outcome
    times: int | None  # None: every call until cleared


class PhoneBook:
    """Dialled number → site, or a told outcome (BUSY, NO ANSWER, NO DIALTONE).

    Shared by any number of modems (a modem bank); thread-safe. A number neither listed
    nor overridden rings out (NO ANSWER / NO CARRIER after S7), like a wrong number.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sites: dict[str, Site] = {}
        self._overrides: dict[str, _Override] = {}
        self.dialled: list[str] = []

    @staticmethod
    def normalise(number: str) -> str:
        """The digits that route a call (dial modifiers, spaces and dashes dropped)."""
        return "".join(ch for ch in number if ch.isdigit() or ch in "*#")

    def add_site(self, number: str, pbx: PbxState, *, username: str = DEFAULT_USERNAME,
                 password: str, conditions: LineConditions | None = None,
                 answer_after: float = 0.0, session_maker: SessionMaker | None = None) -> None:
        site = Site(pbx, session_maker or login_session_maker(pbx, username=username,
                                                               password=password),
                    conditions or LineConditions(), answer_after)
        with self._lock:
            self._sites[self.normalise(number)] = site

    def tell(self, number: str, outcome: Outcome, *, times: int | None = None) -> None:
        """Answer ``outcome`` for ``number`` (the next ``times`` calls, or until cleared)."""
        with self._lock:
            self._overrides[self.normalise(number)] = _Override(outcome, times)

    def busy(self, number: str, *, times: int | None = None) -> None:
        self.tell(number, Outcome.BUSY, times=times)

    def no_answer(self, number: str, *, times: int | None = None) -> None:
        self.tell(number, Outcome.NO_ANSWER, times=times)

    def no_dialtone(self, number: str, *, times: int | None = None) -> None:
        self.tell(number, Outcome.NO_DIALTONE, times=times)

    def clear(self, number: str) -> None:
        with self._lock:
            self._overrides.pop(self.normalise(number), None)

    def site(self, number: str) -> Site | None:
        with self._lock:
            return self._sites.get(self.normalise(number))

    def dial(self, number: str) -> tuple[Outcome, Site | None]:
        """What dialling ``number`` gives now (consumes one use of a counted override)."""
        key = self.normalise(number)
        with self._lock:
            self.dialled.append(key)
            override = self._overrides.get(key)
            if override is not None:
                if override.times is not None:
                    override.times -= 1
                    if override.times <= 0:
                        del self._overrides[key]
                return override.outcome, None
            site = self._sites.get(key)
        return (Outcome.ANSWER, site) if site is not None else (Outcome.NO_ANSWER, None)
