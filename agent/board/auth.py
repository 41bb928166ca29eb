"""Sessions, CSRF tokens and the login rate limit of the board, kept in the server's memory.

Server-side sessions (a random id in an HttpOnly cookie, the user and CSRF token here)
rather than signed cookies: logging out or removing a user ends the session at once, and
no secret key has to be configured and guarded. A restart logs everyone out, which a
desk board can live with. Every visitor gets a session before logging in so the login
form has a CSRF token too; logging in replaces the session id (no session fixation).
Every table here is bounded: the oldest entries go first.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

COOKIE: Final = "pbxdiag_board"
SESSION_TTL: Final = timedelta(hours=12)
MAX_SESSIONS: Final = 10_000
#: Failed logins allowed per user name, and per client address (a desk behind one NAT
#: address shares it), in ``LOGIN_WINDOW``.
MAX_FAILURES: Final = 5
MAX_FAILURES_PER_ADDRESS: Final = 30
LOGIN_WINDOW: Final = timedelta(minutes=5)
MAX_TRACKED: Final = 10_000


@dataclass(slots=True)
class Session:
    id: str
    csrf: str
    user: str | None
    expires: datetime


class Sessions:
    """Session id → session; thread-safe (uvicorn runs handlers on one loop, tests too)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str | None, *, now: datetime) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._items.get(session_id)
            if session is None or session.expires <= now:
                self._items.pop(session_id, None)
                return None
            return session

    def new(self, *, user: str | None, now: datetime) -> Session:
        session = Session(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32),
                          user=user, expires=now + SESSION_TTL)
        with self._lock:
            self._items[session.id] = session
            while len(self._items) > MAX_SESSIONS:
                self._items.popitem(last=False)
        return session

    def end(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)


def csrf_ok(session: Session | None, sent: str | None) -> bool:
    """The form's token is the session's (compared in constant time)."""
    return session is not None and bool(sent) and hmac.compare_digest(session.csrf,
                                                                       str(sent))


class LoginLimiter:
    """Failures per key (client address, user name) in a sliding window."""

    def __init__(self, *, limit: int = MAX_FAILURES, window: timedelta = LOGIN_WINDOW) -> None:
        self.limit, self.window = limit, window
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, keys: tuple[str, ...], *, now: datetime) -> bool:
        with self._lock:
            return any(len(self._recent(key, now)) >= self.limit for key in keys)

    def failed(self, keys: tuple[str, ...], *, now: datetime) -> None:
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_TRACKED:
                self._failures.popitem(last=False)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque(maxlen=self.limit))
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
