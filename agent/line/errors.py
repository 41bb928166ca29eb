"""The root of every deliberate pbxdiag error, and the errors of the line and the PBX.

The CLI maps each branch to an exit code, so a caller (cron, a support script) can tell
"the PBX has a fault" from "the playbook is wrong" from "we never reached the PBX".
Messages must never contain a secret: callers build them from redacted values only.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECKS_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
#: A programming change failed, or may have left the PBX half-programmed: an engineer acts.
EXIT_HALF_PROGRAMMED = 4
#: A bug of ours (sysexits' EX_SOFTWARE): the CLI's last guard, with a crash report.
EXIT_INTERNAL = 70
#: Ctrl-C, as a shell reports SIGINT.
EXIT_INTERRUPTED = 130
#: Our output pipe was closed early (``| head``), as a shell reports SIGPIPE.
EXIT_BROKEN_PIPE = 141


class PbxdiagError(Exception):
    """Base of every deliberate pbxdiag error."""

    exit_code = EXIT_INTERNAL


# --- bad input (exit 2) -------------------------------------------------------------


class InputError(PbxdiagError):
    """A file or argument the user gave us is wrong; reported as ``file:line: message``."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(self.located())

    def located(self) -> str:
        where = [str(part) for part in (self.path, self.line, self.column) if part is not None]
        return ":".join([*where, f" {self.message}"]) if where else self.message





# --- reaching the PBX (exit 3) ------------------------------------------------------


class ConnectionProblem(PbxdiagError):
    """We could not reach, or could not stay connected to, the PBX."""

    exit_code = EXIT_UNREACHABLE


class ConnectFailed(ConnectionProblem):
    """The line could not be opened (refused, no route, modem would not connect)."""


class HostKeyRejected(ConnectFailed):
    """The SSH host key is unknown or differs from the one recorded in known_hosts."""


class AuthFailed(ConnectionProblem):
    """The PBX refused our credentials."""


class LineDropped(ConnectionProblem):
    """The line went away mid-session (EOF, lost carrier, closed channel)."""


class CommandTimeout(ConnectionProblem):
    """The PBX did not answer with the expected pattern before the deadline."""


# --- the PBX answered, but not as we wished ----------------------------------------


class CommandRejected(PbxdiagError):
    """The PBX answered a command with an error reply."""

    exit_code = EXIT_CHECKS_FAILED

    def __init__(self, command: str, reply: str) -> None:
        self.command = command
        self.reply = reply
        super().__init__(f"PBX rejected {command!r}: {reply}")


class ProgrammingLocked(CommandRejected):
    """Another session holds the PBX's single system-programming session."""


class ParseError(PbxdiagError):
    """Console output did not match the dialect contract."""

    def __init__(self, what: str, bad_lines: list[tuple[int, str]]) -> None:
        self.what = what
        self.bad_lines = bad_lines
        shown = "; ".join(f"line {n}: {text!r}" for n, text in bad_lines[:3])
        super().__init__(f"could not parse {what}: {shown}")


class DriverNotFound(InputError):
    """No driver is registered under the vendor name the inventory gives."""


# --- modem result codes (appended for the modem line) --------------------------------


class LineBusy(ConnectFailed):
    """The modem dialled and heard the busy tone (``BUSY``, result code 7)."""


class NoAnswer(ConnectFailed):
    """The far end rang but never answered (``NO ANSWER``, result code 8)."""


class NoDialTone(ConnectFailed):
    """Our own line gave no dial tone (``NO DIALTONE``, result code 6): check the socket."""


class NoCarrier(ConnectFailed):
    """The call was answered (or timed out) without a carrier (``NO CARRIER``, code 3)."""


class VerifyFailed(PbxdiagError):
    """A programming change was written but the PBX does not read back what was written."""

    exit_code = EXIT_CHECKS_FAILED
