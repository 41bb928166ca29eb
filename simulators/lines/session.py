"""The console session a line carries: the PBX's own dialect, chosen by vendor."""

from __future__ import annotations

from collections.abc import Callable

from simulators.sessions import session_for
from simulators.ssh_server import ConsoleSession
from simulators.state import PbxState

Send = Callable[[bytes], None]
#: Builds a session for one connection, given where its output goes.
SessionMaker = Callable[[Send], ConsoleSession]

DEFAULT_USERNAME = "INSTALLER"


def login_session_maker(pbx: PbxState, *, username: str = DEFAULT_USERNAME,
                        password: str) -> SessionMaker:
    """Sessions with the login dialogue: serial, telnet and modem lines authenticate nothing."""

    def make(send: Send) -> ConsoleSession:
        return session_for(pbx, login_required=True, send=send, username=username,
                           password=password)

    return make
