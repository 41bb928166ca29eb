"""The life of a fault ticket: which state may follow which (docs/tickets.md "Lifecycle").

Pure data and checks, so the register, the CLI and the tests agree on one table. The
path the seed's call-out procedure describes is

    logged → remote_diagnosis → resolved_remotely → closed
                              ↘ visit_booked → resolved → closed

with escalation to the manufacturer (second line) as a step of its own that hands the
fault back to first line (remote or on site) once the vendor has answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from agent.errors import InputError

Resolution = Literal["remote", "on_site"]

LOGGED: Final = "logged"
REMOTE_DIAGNOSIS: Final = "remote_diagnosis"
VISIT_BOOKED: Final = "visit_booked"
ESCALATED_TO_MANUFACTURER: Final = "escalated_to_manufacturer"
RESOLVED_REMOTELY: Final = "resolved_remotely"
RESOLVED: Final = "resolved"
CLOSED: Final = "closed"
CANCELLED: Final = "cancelled"

TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    LOGGED: frozenset({REMOTE_DIAGNOSIS, VISIT_BOOKED, CANCELLED}),
    REMOTE_DIAGNOSIS: frozenset({RESOLVED_REMOTELY, VISIT_BOOKED, ESCALATED_TO_MANUFACTURER,
                                 CANCELLED}),
    ESCALATED_TO_MANUFACTURER: frozenset({REMOTE_DIAGNOSIS, RESOLVED_REMOTELY, VISIT_BOOKED}),
    # A booked visit may be re-booked (another date or engineer), or made unnecessary
    # by a remote fix after all.
    VISIT_BOOKED: frozenset({VISIT_BOOKED, RESOLVED, REMOTE_DIAGNOSIS,
                             ESCALATED_TO_MANUFACTURER}),
    RESOLVED_REMOTELY: frozenset({CLOSED}),
    RESOLVED: frozenset({CLOSED}),
    CLOSED: frozenset(),
    CANCELLED: frozenset(),
}
STATES: Final = tuple(TRANSITIONS)
#: A ticket in one of these no longer absorbs new occurrences, escalates or counts as open.
CLOSED_STATES: Final = (RESOLVED_REMOTELY, RESOLVED, CLOSED, CANCELLED)
RESOLUTION_STATES: Final[Mapping[Resolution, str]] = {
    "remote": RESOLVED_REMOTELY,
    "on_site": RESOLVED,
}
#: Entering one of these is the SLA "response": first line is working on the fault
#: remotely, or an engineer fixed it on site (docs/tickets.md "SLA clock").
RESPONSE_STATES: Final = frozenset({REMOTE_DIAGNOSIS, RESOLVED_REMOTELY, RESOLVED})


class InvalidTransition(InputError):
    """The requested state does not follow the ticket's current one."""

    def __init__(self, ref: str, current: str, target: str) -> None:
        self.ref, self.current, self.target = ref, current, target
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none (final state)"
        super().__init__(f"{ref}: cannot go from {current} to {target} "
                         f"(allowed from {current}: {allowed})")


def check_state(state: str) -> str:
    """A known state name, or a clear error listing them."""
    if state not in TRANSITIONS:
        raise InputError(f"unknown ticket state {state!r}; expected one of {', '.join(STATES)}")
    return state


def check_transition(ref: str, current: str, target: str) -> None:
    """Refuse any move the lifecycle table does not allow."""
    check_state(target)
    if target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(ref, current, target)


def path_to(ref: str, current: str, target: str) -> list[str]:
    """The states a ticket passes through to reach ``target``, ending with it: the
    shortest way the table allows (``tickets resolve`` records each step itself, so a
    new ticket fixed remotely goes logged → remote_diagnosis → resolved_remotely).

    Refused (InvalidTransition) when no way leads there — a closed ticket, say.
    """
    check_state(target)
    previous: dict[str, str] = {}
    frontier = [current]
    seen = {current}
    while frontier and target not in previous:
        following = []
        for state in frontier:
            # Never through the manufacturer unless that is the only way: nobody asked it.
            for nxt in sorted(TRANSITIONS.get(state, frozenset()),
                              key=lambda name: (name == ESCALATED_TO_MANUFACTURER, name)):
                if nxt not in seen:
                    seen.add(nxt)
                    previous[nxt] = state
                    following.append(nxt)
        frontier = following
    if target not in previous:
        raise InvalidTransition(ref, current, target)
    steps = [target]
    while previous[steps[-1]] != current:
        steps.append(previous[steps[-1]])
    return steps[::-1]


def is_open(state: str) -> bool:
    return state not in CLOSED_STATES
