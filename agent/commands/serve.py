"""``pbxdiag serve``: the desk's board over the ticket register (docs/board.md).

Binds to loopback by default: the board is for the desk's own network, put behind a
TLS reverse proxy or given ``--certfile/--keyfile`` before anything wider. Every option
is checked before the port is opened, so a typo is exit 2, not a half-started server.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agent.commands import add_db_option, add_inventory_option, db_path
from agent.commands.users import add_users_option, users_path
from agent.errors import EXIT_OK, InputError
from agent.paths import default_data_dir


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="the desk's web board (needs the board extra)",
                                 description="Serve the desk's board: open faults by next "
                                             "SLA deadline, tickets, actions, JSON API.")
    parser.add_argument("--bind", default="127.0.0.1:8080", metavar="HOST:PORT",
                        help="address to listen on (default 127.0.0.1:8080)")
    add_db_option(parser)
    add_inventory_option(parser, required=False,
                         help="inventory whose maintenance windows the board shows")
    add_users_option(parser)
    parser.add_argument("--certfile", type=Path, default=None, help="TLS certificate (PEM)")
    parser.add_argument("--keyfile", type=Path, default=None, help="TLS private key (PEM)")
    parser.add_argument("--proxy", default="127.0.0.1", metavar="ADDRS",
                        help="reverse proxies trusted for X-Forwarded-Proto/For "
                             "(comma-separated; default 127.0.0.1)")
    parser.add_argument("--refresh", type=int, default=30, metavar="SECONDS",
                        help="how often the board's table refreshes itself (1–3600, "
                             "default 30)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="pbxdiag's data dir, where the sites' pre-visit packs and "
                             "backups are (default: XDG data dir)")
    parser.add_argument("--log-file", type=Path, default=None, metavar="FILE",
                        help="JSON log of logins, refusals and logouts (default: XDG data "
                             "dir/board.log)")
    parser.set_defaults(handler=_serve)


def parse_bind(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--bind: expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def _serve(args: argparse.Namespace) -> int:
    host, port = parse_bind(args.bind)
    if not 1 <= args.refresh <= 3600:
        raise InputError(f"--refresh: 1 to 3600 seconds, got {args.refresh}")
    if (args.certfile is None) != (args.keyfile is None):
        raise InputError("--certfile and --keyfile go together")
    for option, path in (("--certfile", args.certfile), ("--keyfile", args.keyfile)):
        if path is not None and not path.is_file():
            raise InputError(f"{option}: no such file: {path}")
    try:
        import uvicorn

        from agent.board.app import BoardConfig, build_app
    except ImportError as exc:
        raise InputError(f"pbxdiag serve needs the board extra: pip install "
                         f"'pbxdiag[board]' ({exc.name} is missing)") from None
    from agent import logsetup
    from agent.board.users import load

    logsetup.configure(log_file=args.log_file or (args.data or default_data_dir()) / "board.log")

    users = users_path(args)
    if not load(users).users:
        print(f"warning: no users in {users}: add one with 'pbxdiag users add NAME --role R'")
    app = build_app(BoardConfig(db=db_path(args), users=users, inventory=args.inventory,
                                 refresh_s=args.refresh,
                                 data_dir=args.data or default_data_dir()))
    print(f"board on {'https' if args.certfile else 'http'}://{host}:{port}/", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning",
                ssl_certfile=str(args.certfile) if args.certfile else None,
                ssl_keyfile=str(args.keyfile) if args.keyfile else None,
                proxy_headers=True, forwarded_allow_ips=args.proxy)
    return EXIT_OK
