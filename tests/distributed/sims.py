"""A process of its own serving a fleet's simulated sites: PBXs on SSH, and PBXs reached
through a bank of emulated Hayes modems that share one phone book (the telephone network).

Run as ``python -m tests.distributed.sims SSH_SITES MODEM_SITES MODEMS FOLDER PASSWORD``;
prints one JSON line — SSH ports, known_hosts lines, each modem's device and status file,
and the number of each modem site — then serves until its stdin closes. Every tenth PBX
(by its index over all sites) has a dead trunk card, as in bench/fleet_sims.py.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path

from simulators import load_scenario, serve_ssh
from simulators.lines.modem import serve_modem
from simulators.lines.phonebook import PhoneBook


def scenario_for(index: int) -> str:
    return "panasonic-dead-trunk-card" if index % 10 == 0 else "panasonic-healthy"


def main() -> int:
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    ssh_sites, modem_sites, modems = (int(arg) for arg in sys.argv[1:4])
    folder, password = Path(sys.argv[4]), sys.argv[5]
    with ExitStack() as stack:
        ports, known = [], []
        for index in range(ssh_sites):
            endpoint = stack.enter_context(serve_ssh(
                load_scenario(scenario_for(index)), host_key_path=folder / "host_key",
                password=password))
            ports.append(endpoint.port)
            known.append(endpoint.known_hosts_line())
        book = PhoneBook()
        numbers = []
        for offset in range(modem_sites):
            number = f"{700 + offset}"
            book.add_site(number, load_scenario(scenario_for(ssh_sites + offset)),
                          password=password)
            numbers.append(number)
        bank = []
        for index in range(modems):
            endpoint = stack.enter_context(serve_modem(book, state_dir=folder / f"modem-{index}"))
            bank.append({"device": endpoint.device,
                         "status": str(endpoint.modem.status_path)})
        print(json.dumps({"ports": ports, "known_hosts": known, "modems": bank,
                          "numbers": numbers}), flush=True)
        sys.stdin.read()  # until the test closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
