"""The ``pbxdiag`` command.

Exit codes (docs/reliability.md has the table): 0 all checks passed, 1 a fault was
diagnosed, 2 bad input, 3 the PBX was not reached or the line was unusable, 4 a
programming change failed or may have left the PBX half-programmed, 70 internal error
(with a crash report), 130 interrupted, 141 output pipe closed. Deliberate errors print
one clear line (``file:line:column: message`` for files), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from agent import logsetup
from agent.commands import GROUPS
from agent.commands.completion import complete_if_asked
from agent.config import apply_defaults
from agent.crash import write_crash_report
from agent.errors import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    InputError,
    PbxdiagError,
)
from agent.line.secrets import REDACTOR

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pbxdiag", description="Remote diagnostics for Panasonic and Toshiba PBXs.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    parser.add_argument("--version", action="version", version=f"pbxdiag {_version()}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"agent.commands.{group}").register(commands)
    return parser


#: Files pbxdiag creates hold customer data (register, transcripts, logs): private to the
#: user whatever the caller's umask, or shared with a group named in PBXDIAG_GROUP for the
#: services that share one register (monitor, board, workers).
PRIVATE_UMASK = 0o077
GROUP_UMASK = 0o007


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the one source)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pbxdiag")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(GROUP_UMASK if os.environ.get("PBXDIAG_GROUP") else PRIVATE_UMASK)
    parser = build_parser()
    complete_if_asked(parser)  # the shell's TAB: print candidates and exit, nothing run
    args = parser.parse_args(argv)
    logsetup.configure(verbose=args.verbose)
    handler: Handler = args.handler
    try:
        apply_defaults(args)
        return handler(args)
    except InputError as err:
        for problem in getattr(err, "problems", None) or (err,):  # every one, in one pass
            _error(problem.located())
        return EXIT_BAD_INPUT
    except PbxdiagError as err:
        _error(str(err))
        return err.exit_code
    except KeyboardInterrupt as err:
        _error(str(err) or "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _pipe_closed()
    except Exception as err:  # the last guard: a bug of ours, reported, never a traceback
        report = write_crash_report(err, list(sys.argv if argv is None else argv))
        where = f"; crash report: {report}" if report else ""
        _error(f"internal error ({type(err).__name__}: {err}){where}")
        return EXIT_INTERNAL


def _pipe_closed() -> int:
    """``pbxdiag tickets list | head``: the reader left; end quietly, as ``head`` expects.

    Python would otherwise complain again when it flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _error(message: str) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError):
        print(f"pbxdiag: {REDACTOR.scrub(message)}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
