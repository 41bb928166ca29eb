"""``pbxdiag sites keyscan SITE``: record a PBX's SSH host key once its fingerprint is
confirmed out of band (read to the site over the phone, or from its label).

``pbxdiag sites maintenance`` (maintenance windows) lives in ``commands/maintenance.py``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import urlsplit

from agent.commands import add_inventory_option, maintenance
from agent.errors import EXIT_CHECKS_FAILED, EXIT_OK, InputError


def register(commands: Any) -> None:
    sites = commands.add_parser("sites", help="work on the sites of an inventory")
    actions = sites.add_subparsers(dest="sites_command", required=True, metavar="ACTION")
    keyscan = actions.add_parser("keyscan", help="fetch a PBX's SSH host key and record it "
                                                 "in the site's known_hosts once confirmed")
    keyscan.add_argument("site", help="site id from the inventory")
    add_inventory_option(keyscan, help="the inventory YAML file that names the site")
    keyscan.add_argument("--yes", action="store_true",
                         help="record without asking (scripts: confirm the fingerprint "
                              "some other way first)")
    keyscan.add_argument("--replace", action="store_true",
                         help="replace a different key already recorded (a PBX whose "
                              "processor was changed)")
    keyscan.add_argument("--json", action="store_true", help="print the result as JSON")
    keyscan.set_defaults(handler=_keyscan)
    maintenance.add(actions)


def _keyscan(args: argparse.Namespace) -> int:
    from agent.inventory import load_inventory
    from agent.line import keyscan

    site = load_inventory(args.inventory).site(args.site)
    if site.known_hosts is None:
        raise InputError(f"site {site.id!r} has no known_hosts file in the inventory: add "
                         "known_hosts: FILE to it first", path=str(args.inventory))
    ssh = [urlsplit(url) for url in site.paths if url.startswith("ssh://")]
    if not ssh:
        raise InputError(f"site {site.id!r} has no ssh:// path", path=str(args.inventory))
    parts = ssh[0]
    scanned = keyscan.scan(parts.hostname or "", parts.port or 22, timeout=site.timeout)
    state = keyscan.recorded(site.known_hosts, scanned)
    report = {"site": site.id, "host": scanned.name, "type": scanned.key.get_name(),
              "fingerprint": scanned.fingerprint, "known_hosts": str(site.known_hosts)}
    if state is True:
        return _done(args, {**report, "action": "already recorded"}, EXIT_OK)
    if state is False and not args.replace:
        return _done(args, {**report, "action": "refused: a DIFFERENT key is recorded — check "
                                               "with the site, then --replace"},
                     EXIT_CHECKS_FAILED)
    if not args.yes and not _confirmed(scanned.name, scanned.key.get_name(),
                                       scanned.fingerprint):
        raise InputError("not recorded: the fingerprint was not confirmed (on a terminal "
                         "answer y; in a script pass --yes)")
    keyscan.record(site.known_hosts, scanned, replace=state is False)
    return _done(args, {**report, "action": "recorded"}, EXIT_OK)


def _confirmed(name: str, key_type: str, print_: str) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(f"{name} offers {key_type} {print_}\n"
                   "Does this match what the site reads to you? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _done(args: argparse.Namespace, report: dict[str, str], code: int) -> int:
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['host']} {report['type']} {report['fingerprint']}: {report['action']}"
              f" ({report['known_hosts']})")
    return code
