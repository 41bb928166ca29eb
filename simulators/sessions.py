"""Pick the console dialect a simulated PBX speaks: one factory for every line server."""

from __future__ import annotations

from collections.abc import Callable

from simulators.console_base import LineSession
from simulators.models import PANASONIC, TOSHIBA
from simulators.panasonic.console import PanasonicSession
from simulators.state import PbxState
from simulators.toshiba.console import ToshibaSession

_DIALECTS: dict[str, type[PanasonicSession] | type[ToshibaSession]] = {
    PANASONIC: PanasonicSession,
    TOSHIBA: ToshibaSession,
}


def session_for(pbx: PbxState, *, login_required: bool, send: Callable[[bytes], None],
                username: str, password: str | None) -> LineSession:
    """A console session in ``pbx``'s vendor dialect (Panasonic or Toshiba).

    ``login_required`` is False on lines that authenticate by themselves (SSH); the
    session then greets with the prompt. Otherwise it runs its own login dialogue against
    ``username``/``password``.
    """
    try:
        dialect = _DIALECTS[pbx.system.vendor]
    except KeyError:
        raise ValueError(f"no console dialect for vendor {pbx.system.vendor!r}") from None
    return dialect(pbx, login_required=login_required, send=send, username=username,
                   password=password)
