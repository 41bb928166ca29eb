"""Text a PBX console, a noisy line or a hostile file might produce.

Two kinds: plain noise (any characters, with the controls a line really delivers: CR,
LF, form feed, NUL, 8-bit bytes decoded as Latin-1, non-ASCII digits), and text made of
the dialects' own tokens, which reaches deep into the parsers (a header, then rows of
numbers, states and dates that almost fit).
"""

from __future__ import annotations

from hypothesis import strategies as st

#: Characters a console reply may carry on a bad day.
LINE_CHARACTERS = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from("\r\n\f\x00\t\x07\x1b\x7f"),
    st.characters(min_codepoint=0x80, max_codepoint=0xFF),
    st.sampled_from("٠١٢٣²³¹①"),  # digits int() or isdigit() take, regexes should not
)

noise = st.text(LINE_CHARACTERS, max_size=300)

TOKENS = (
    # numbers of every width, including the one that killed int()
    "0", "1", "01", "03", "001", "99", "100", "999", "1000", "9" * 40, "٠٣", "²",
    # states, kinds and words of both dialects
    "INS", "OUS", "FLT", "IN5", "IN-SVC", "OUT-SVC", "FAULT", "IDLE", "BUSY", "NC",
    "NOT-CONN", "LCOT", "BRI", "PRI", "SIP", "LS", "T1", "IP", "DKT", "MJ", "MN", "ALM",
    "MAJOR", "MINOR", "DAY", "NIGHT", "DAY2", "AUTO", "MANUAL", "TEA", "NONE",
    # dates and times, good and impossible
    "01/12/26", "13/45/26", "00/00/00", "31/02/26", "10:00", "25:61", "10:00:00",
    "25:61:00", "99:99:99", "MON",
    # separators, equipment numbers and markers
    "=", ":", " = ", " : ", "#301", "#999", "010101", "10103", "1***0103", '"', '""',
    "-- More --", "NO ALARM", "NO ERROR LOG", "NO ACTIVE ALARM", "ALARM HISTORY EMPTY",
    "SYSTEM", "VERSION", "System Model", "PSMPR Software File Version", "STRATA CTX670",
)

HEADERS = (
    "CAB SLT CARD MODEL FIRMWARE STATUS", "CO CAB SLT PRT KIND STATUS",
    "EXT CAB SLT PRT TYPE NAME STATUS", "DATE TIME CODE CATEGORY SEV EQUIP DESCRIPTION",
    "SLOT PCB VER STATUS", "TRK EQUIP TYPE STATUS", "PDN EQUIP TYPE NAME STATUS",
    "TIME SERVICE : DAY", "SWITCHING : AUTO", "DAY/NIGHT MODE : NIGHT", "CONTROL : MANUAL",
)

_SPACES = st.sampled_from([" ", "  ", "    ", "\t"])
_token = st.one_of(st.sampled_from(TOKENS), st.text(LINE_CHARACTERS, max_size=8))
_row = st.lists(st.tuples(_token, _SPACES), max_size=10).map(
    lambda parts: "".join(token + space for token, space in parts).rstrip())
_ending = st.sampled_from(["\r\n", "\n", "\r", "\r\r\n", "\f\r\n"])

near_reply = st.builds(
    lambda header, rows, ending: ending.join([*header, *rows]) + ending,
    st.lists(st.sampled_from(HEADERS), max_size=2),
    st.lists(_row, max_size=8),
    _ending,
)

#: A console reply: mostly near the dialect, sometimes pure noise.
reply = st.one_of(near_reply, noise)
