"""The telnet wire format (RFC 854), shared by our client and the simulator's server.

Both ends parse the same byte stream — data, IAC commands, option negotiation,
subnegotiations skipped whole — and escape data the same way: 0xFF is doubled, and a CR
not followed by LF becomes CR NUL (the NVT rule), undone on the way in. Only *which*
options an end accepts, and how it answers, differ; a subclass says that in
``_negotiate``. ``answer`` is RFC 1143's rule that keeps two ends out of negotiation
loops: answer only a request that would change an option's state.

This lives in the line layer, not in ``transports/``, because it is a codec and not a
line: the client transport and the simulated console server both import it.
"""

from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA = 1, 3
CR, NUL = 13, 0
_BARE_CR = re.compile(rb"\r(?!\n)")


class _Parse(enum.Enum):
    DATA = enum.auto()
    IAC = enum.auto()
    OPTION = enum.auto()
    SB = enum.auto()
    SB_IAC = enum.auto()


def answer(options: dict[int, bool], allowed: frozenset[int], option: int, *,
           enable: bool, yes: int, no: int) -> bytes:
    """The reply to a request to turn ``option`` on or off, recorded in ``options``.

    A request to enable an option not in ``allowed`` is refused (``no``); a request
    that changes nothing gets no answer, which is what stops loops.
    """
    if enable and option not in allowed:
        return bytes((IAC, no, option))
    if options.get(option, False) == enable:
        return b""
    options[option] = enable
    return bytes((IAC, yes if enable else no, option))


class TelnetCodec(ABC):
    """One end of a telnet connection: decode what the peer sent, encode what we send.

    Pure (no socket), so both ends are testable byte by byte.
    """

    def __init__(self) -> None:
        self._state = _Parse.DATA
        self._verb = 0
        self._after_cr = False

    @staticmethod
    def encode(data: bytes) -> bytes:
        """Double IAC; a CR not followed by LF becomes CR NUL (NVT rule)."""
        return _BARE_CR.sub(b"\r\x00", data.replace(b"\xff", b"\xff\xff"))

    def decode(self, raw: bytes) -> tuple[bytes, bytes]:
        """(data for the console, negotiation replies to send to the peer)."""
        data = bytearray()
        reply = bytearray()
        for byte in raw:
            state = self._state
            if state is _Parse.DATA:
                if byte == IAC:
                    self._state = _Parse.IAC
                    continue
                if not (self._after_cr and byte == NUL):  # CR NUL is a bare CR
                    data.append(byte)
                self._after_cr = byte == CR
            elif state is _Parse.IAC:
                self._command(byte, data)
            elif state is _Parse.OPTION:
                self._state = _Parse.DATA
                reply += self._negotiate(self._verb, byte)
            elif state is _Parse.SB:
                if byte == IAC:
                    self._state = _Parse.SB_IAC
            else:  # SB_IAC: IAC SE ends the subnegotiation, IAC IAC is data inside it
                self._state = _Parse.DATA if byte == SE else _Parse.SB
        return bytes(data), bytes(reply)

    def _command(self, byte: int, data: bytearray) -> None:
        if byte == IAC:
            data.append(IAC)
            self._after_cr = False
            self._state = _Parse.DATA
        elif byte in (DO, DONT, WILL, WONT):
            self._verb = byte
            self._state = _Parse.OPTION
        elif byte == SB:
            self._state = _Parse.SB
        else:  # NOP, GA, DM, AYT, BRK, ...: nothing a maintenance console acts on
            self._state = _Parse.DATA

    @abstractmethod
    def _negotiate(self, verb: int, option: int) -> bytes:
        """The reply to ``IAC verb option`` (DO, DONT, WILL or WONT), maybe empty."""
