"""Every error pbxdiag raises on purpose, as the agent's layers see them.

The hierarchy's root and the line's errors live in ``agent.line.errors`` (drivers raise
them too); the kinds of bad input that only the agent knows of — a playbook, an
inventory, a simulator scenario — are added here. The CLI maps each branch to an exit
code, so a caller (cron, a support script) can tell "the PBX has a fault" from "the
playbook is wrong" from "we never reached the PBX".
"""

from __future__ import annotations

from agent.line.errors import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_CHECKS_FAILED,
    EXIT_HALF_PROGRAMMED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    AuthFailed,
    CommandRejected,
    CommandTimeout,
    ConnectFailed,
    ConnectionProblem,
    DriverNotFound,
    HostKeyRejected,
    InputError,
    LineBusy,
    LineDropped,
    NoAnswer,
    NoCarrier,
    NoDialTone,
    ParseError,
    PbxdiagError,
    ProgrammingLocked,
    VerifyFailed,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BROKEN_PIPE",
    "EXIT_CHECKS_FAILED",
    "EXIT_HALF_PROGRAMMED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "AuthFailed",
    "CommandRejected",
    "CommandTimeout",
    "ConnectFailed",
    "ConnectionProblem",
    "DriverNotFound",
    "HostKeyRejected",
    "InputError",
    "InventoryError",
    "LineBusy",
    "LineDropped",
    "NoAnswer",
    "NoCarrier",
    "NoDialTone",
    "ParseError",
    "PbxdiagError",
    "PlaybookError",
    "ProgrammingLocked",
    "ScenarioError",
    "VerifyFailed",
]


class PlaybookError(InputError):
    """The playbook does not parse or does not validate."""


class InventoryError(InputError):
    """The inventory (sites, contracts, credentials) does not parse or validate."""


class ScenarioError(InputError):
    """A simulator scenario file does not parse or validate."""
