"""``pbxdiag config``: which inventory and register are in force, and where each came from."""

from __future__ import annotations

import argparse
import json
from typing import Any

from agent.errors import EXIT_OK


def register(commands: Any) -> None:
    config = commands.add_parser("config", help="show the defaults in force and their source")
    config.add_argument("--json", action="store_true", help="print JSON instead of text")
    config.set_defaults(handler=_config)


def _config(args: argparse.Namespace) -> int:
    from agent.config import KEYS, config_file, resolve

    settings = {key: resolve(key, None) for key in KEYS}
    if args.json:
        print(json.dumps({"config_file": str(config_file()),
                          **{key: {"value": None if s.value is None else str(s.value),
                                   "source": s.source} for key, s in settings.items()}}))
        return EXIT_OK
    print(f"config file: {config_file()}")
    for key, setting in settings.items():
        print(f"{key:<10} {setting.value if setting.value is not None else '-'}"
              f"    ({setting.source})")
    return EXIT_OK
