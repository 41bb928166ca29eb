"""``pbxdiag demo``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run the health check on a simulated faulty PBX")
    demo.add_argument("--output", type=Path, default=Path("demo-output"),
                      help="directory for all demo files (default: ./demo-output)")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from agent.demo import run_demo

    return run_demo(args.output)
