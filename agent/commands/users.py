"""``pbxdiag users ...``: who may log in to the board, with which role, and API tokens.

The users file defaults to ``board-users.yaml`` in the data directory beside the
register (``--users`` or ``$PBXDIAG_USERS`` elsewhere). Passwords come from a prompt, or
from standard input with ``--password-stdin`` (for scripts); never from the command line,
where every user of the machine could read them in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.errors import EXIT_OK, InputError
from agent.paths import default_data_dir


def users_path(args: argparse.Namespace) -> Path:
    if getattr(args, "users", None) is not None:
        return Path(args.users)
    env = os.environ.get("PBXDIAG_USERS")
    return Path(env) if env else default_data_dir() / "board-users.yaml"


def add_users_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=Path, default=None, metavar="FILE",
                        help="the board's users file (default: $PBXDIAG_USERS or "
                             "board-users.yaml in the data directory)")


def register(commands: Any) -> None:
    users = commands.add_parser("users", help="the board's users, roles and API tokens")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user (or set a user's role and password)")
    add.add_argument("name", help="the login name (letters, digits, . _ @ -)")
    add.add_argument("--role", required=True, choices=("desk", "engineer", "admin"),
                     help="desk: read, note; engineer: also status, visits, resolve, "
                          "escalate, maintenance; admin: also users, tokens, cancel")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input's first line")
    add.set_defaults(handler=_add)
    remove = actions.add_parser("remove", help="remove a user (and revoke their tokens)")
    remove.add_argument("name", help="the login name")
    remove.set_defaults(handler=_remove)
    listing = actions.add_parser("list", help="list users and tokens (never a hash)")
    listing.set_defaults(handler=_list)
    token = actions.add_parser("token", help="make an API token for NAME (shown once), "
                               "or revoke one")
    token.add_argument("name", nargs="?", help="the user the new token acts as")
    token.add_argument("--revoke", metavar="ID", help="revoke the token with this id")
    token.set_defaults(handler=_token)
    for parser in (add, remove, listing, token):
        add_users_option(parser)


def _now() -> datetime:
    return datetime.now(UTC)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline(4096).rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise InputError("the passwords differ")
    return first


def _add(args: argparse.Namespace) -> int:
    from agent.board import users

    path = users_path(args)
    data = users.add_user(users.load(path), args.name, args.role, _password(args))
    users.save(path, data)
    print(f"{args.name}: {args.role} ({path})")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    from agent.board import users

    path = users_path(args)
    users.save(path, users.remove_user(users.load(path), args.name, now=_now()))
    print(f"{args.name}: removed, tokens revoked")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from agent.board import users

    data = users.load(users_path(args))
    for user in sorted(data.users.values(), key=lambda u: u.name):
        print(f"{user.name:<24} {user.role}")
    for token in data.tokens:
        state = f"revoked {token.revoked:%Y-%m-%d}" if token.revoked else "live"
        print(f"token {token.id} {token.user} created {token.created:%Y-%m-%d} {state}")
    return EXIT_OK


def _token(args: argparse.Namespace) -> int:
    from agent.board import users

    path = users_path(args)
    data = users.load(path)
    if args.revoke:
        users.save(path, users.revoke_token(data, args.revoke, now=_now()))
        print(f"token {args.revoke}: revoked")
        return EXIT_OK
    if not args.name:
        raise InputError("users token: name the user (or --revoke ID)")
    data, secret = users.new_token(data, args.name, now=_now())
    users.save(path, data)
    print(secret)
    return EXIT_OK
