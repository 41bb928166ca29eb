"""The pseudo-terminal an SSH line asks for: cooked (the server's default), raw, or none.

A PBX's own SSH server ignores terminal modes, but a console server or jump box runs a
real pty in front of the PBX: cooked, it turns the PBX's CR LF into CR CR LF, our CR into
LF and echoes every keystroke a second time (the PBX echoes too). ``pty=raw`` asks for
the pty with those modes off (RFC 4254 §8 encoded terminal modes), so the bytes pass as
the PBX sent them; ``pty=none`` asks for no pty at all (a bridge that needs no terminal).
paramiko's ``get_pty`` sends no modes, so the raw request is built here.
"""

from __future__ import annotations

import struct

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST

PTY_KINDS = ("cooked", "raw", "none")

#: RFC 4254 §8 opcodes switched off for ``raw``: no echo, no line editing or signals,
#: no CR/LF translation either way.
_RAW_OFF = {"ECHO": 53, "ECHOE": 54, "ECHOK": 55, "ECHONL": 56, "ICANON": 51, "ISIG": 50,
            "IEXTEN": 59, "ICRNL": 36, "INLCR": 34, "IGNCR": 35, "IXON": 38, "OPOST": 70,
            "ONLCR": 72, "OCRNL": 73}
_TTY_OP_END = 0


def raw_modes() -> bytes:
    """The encoded terminal modes of a raw pty."""
    return b"".join(struct.pack("!BI", code, 0) for code in _RAW_OFF.values()) \
        + bytes([_TTY_OP_END])


def request_pty(channel: paramiko.Channel, kind: str, *, width: int, height: int = 24) -> None:
    """Ask the server for the pty ``kind`` names (``cooked`` is paramiko's own request)."""
    if kind == "none":
        return
    if kind == "cooked":
        channel.get_pty(term="vt100", width=width, height=height)
        return
    message = paramiko.Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("pty-req")
    message.add_boolean(True)
    message.add_string("vt100")
    message.add_int(width)
    message.add_int(height)
    message.add_int(0)
    message.add_int(0)
    message.add_string(raw_modes())
    # paramiko's own get_pty, with modes: the same private calls (paramiko>=3.4,<6).
    channel._event_pending()  # type: ignore[attr-defined]
    channel.transport._send_user_message(message)  # type: ignore[union-attr]
    channel._wait_for_event()  # type: ignore[attr-defined]
