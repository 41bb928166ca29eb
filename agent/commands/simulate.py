"""``pbxdiag simulate``: serve a scenario until interrupted, announcing each endpoint.

One JSON line per endpoint on stdout (kind, address, credentials) lets scripts and tests
connect without parsing prose. Waiting is on a signal, never a sleep loop.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from agent.paths import default_data_dir


def register(commands: Any) -> None:
    simulate = commands.add_parser("simulate", help="serve a simulated PBX until interrupted")
    simulate.add_argument("scenario", help="scenario name or YAML file")
    simulate.add_argument("--ssh", type=int, default=0, metavar="PORT",
                          help="SSH port (0 picks a free port)")
    simulate.add_argument("--state-dir", type=Path, default=None,
                          help="where the persistent host key lives")
    simulate.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from simulators import load_scenario, serve_ssh

    pbx = load_scenario(args.scenario)
    folder = args.state_dir or default_data_dir() / "simulator"
    password = secrets.token_urlsafe(9)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with serve_ssh(pbx, port=args.ssh, host_key_path=folder / "ssh_host_ed25519_key",
                   password=password) as endpoint:
        print(json.dumps({"kind": "ssh", "host": endpoint.host, "port": endpoint.port,
                          "username": "INSTALLER", "password": password,
                          "known_hosts": endpoint.known_hosts_line(),
                          "scenario": args.scenario}), flush=True)
        stop.wait()
    return 0
