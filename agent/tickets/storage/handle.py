"""Opening and closing a store as a context manager, for the classes built over one.

``Register`` (tickets) and the SMDR store (the monitor's records) each wrap a store of the
register's file; what ``with`` does with it is the same for both, so it is written once.
"""

from __future__ import annotations

from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar


class _Openable(Protocol):
    def open(self) -> object: ...

    def close(self) -> None: ...


S = TypeVar("S", bound=_Openable)


class StoreHandle(Generic[S]):
    """``open``/``close``/``with`` delegated to ``self._store``."""

    _store: S

    def open(self) -> Self:
        self._store.open()
        return self

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
