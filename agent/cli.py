"""The ``pbxdiag`` command.

Exit codes: 0 all checks passed, 1 checks failed (fault logged), 2 bad input (playbook,
inventory, arguments), 3 could not reach or log into the PBX. Deliberate errors print one
clear line (``file:line:column: message`` for files), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from agent import logsetup
from agent.commands import GROUPS
from agent.errors import EXIT_BAD_INPUT, InputError, PbxdiagError
from agent.line.secrets import REDACTOR

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pbxdiag", description="Remote diagnostics for Panasonic and Toshiba PBXs.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"agent.commands.{group}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logsetup.configure(verbose=args.verbose)
    handler: Handler = args.handler
    try:
        return handler(args)
    except InputError as err:
        _error(err.located())
        return EXIT_BAD_INPUT
    except PbxdiagError as err:
        _error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _error(message: str) -> None:
    print(f"pbxdiag: {REDACTOR.scrub(message)}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
