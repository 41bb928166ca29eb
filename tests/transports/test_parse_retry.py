"""A reply damaged once on the line is read again; damaged twice it is a ParseError."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.errors import ParseError
from simulators import PbxState
from simulators.lines import serve_tcp
from simulators.lines.session import login_session_maker

from .conftest import PASSWORD, open_url, survey

Send = Callable[[bytes], None]


def damaging(pbx: PbxState, *, times: int) -> Callable[[Send], object]:
    """Sessions whose first ``times`` card tables arrive with a corrupted row."""
    make = login_session_maker(pbx, password=PASSWORD)
    left = [times]

    def session(send: Send) -> object:
        def corrupt(data: bytes) -> None:
            if left[0] > 0 and b"IPCMPR" in data:
                left[0] -= 1
                data = data.replace(b"INS\r\n", b"I#S\r\n", 1)  # the processor's row
            send(data)
        return make(corrupt)

    return session


def test_one_damaged_reply_is_read_again(pbx: PbxState) -> None:
    with serve_tcp(pbx, password=PASSWORD, session_maker=damaging(pbx, times=1)) as endpoint:
        transport = open_url(f"tcp://127.0.0.1:{endpoint.port}")
        try:
            assert survey(transport).cards == len(pbx.cards())
        finally:
            transport.close()


def test_a_reply_damaged_twice_is_a_parse_error(pbx: PbxState) -> None:
    with serve_tcp(pbx, password=PASSWORD, session_maker=damaging(pbx, times=2)) as endpoint:
        transport = open_url(f"tcp://127.0.0.1:{endpoint.port}")
        try:
            with pytest.raises(ParseError, match="card list"):
                survey(transport)
        finally:
            transport.close()
