"""Toshiba's words for the state's canonical codes (docs/dialects/toshiba.md)."""

from __future__ import annotations

from simulators.records import Card, Mode, Status

#: Station types: Toshiba word -> canonical extension type.
STATION_TYPES = {"DKT": "DPT", "EKT": "APT", "STD": "SLT", "IPT": "IPPT"}
STATION_WORDS = {canonical: word for word, canonical in STATION_TYPES.items()}

#: Trunk type by card: loop start, DID, E&M, T1, PRI, BRI, IP.
TRUNK_WORDS = {
    "RCOU": "LS", "RCOS": "LS", "RCIU": "LS", "RCIS": "LS", "RDDU": "DID", "REMU": "EM",
    "RDTU": "T1", "RPTU": "PRI", "BPTU": "PRI", "RBSU": "BRI", "RBUU": "BRI",
    "BVPU": "IP", "BIPU": "IP",
}
#: Toshiba trunk word -> canonical CO kind (for scenario files).
TRUNK_KINDS = {"LS": "LCOT", "DID": "LCOT", "EM": "LCOT", "T1": "PRI", "PRI": "PRI",
               "BRI": "BRI", "IP": "SIP"}
#: Analogue trunks without answer supervision: SMDR shows them as ``A`` + group + number.
UNSUPERVISED_CARDS = frozenset({"RCOU", "RCOS", "RCIU", "RCIS"})

MODE_WORDS = {Mode.DAY: "DAY", Mode.LUNCH: "DAY2", Mode.BREAK: "DAY3", Mode.NIGHT: "NIGHT",
              Mode.HOLIDAY: "HOLIDAY"}
MODES = {word: mode for mode, word in MODE_WORDS.items()}

STATUS_WORDS = {Status.INS: "IN-SVC", Status.OUS: "OUT-SVC", Status.FLT: "FAULT"}
STATION_STATUS = {"IDLE": "IDLE", "BUSY": "BUSY", "NC": "NOT-CONN", "OUS": "OUT-SVC",
                  "FLT": "FAULT"}


def trunk_word(card: Card) -> str:
    return TRUNK_WORDS.get(card.card_type, "LS")
