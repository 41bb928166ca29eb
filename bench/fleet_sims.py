"""A separate process serving N simulated sites over SSH, for the fleet benchmark.

Prints one JSON line with every port and the shared known_hosts text, then serves until
its stdin closes (the benchmark holds the pipe; no sleeps, no polling).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from simulators import load_scenario, serve_ssh

ROOT = Path(__file__).resolve().parent.parent


#: Sites one simulator process serves: past a few hundred, one interpreter's threads
#: answer SSH banners late and the benchmark would measure the simulator, not the agent.
PER_PROCESS = 100


@contextmanager
def serving(count: int, folder: Path, password: str) -> Iterator[list[int]]:
    """``count`` simulated sites, ``PER_PROCESS`` per process of their own, for the block:
    their SSH ports (``folder/known_hosts`` written); the processes end with the block."""
    sims: list[subprocess.Popen[str]] = []
    ports: list[int] = []
    known: list[str] = []
    try:
        for first in range(0, count, PER_PROCESS):
            home = folder / f"sims-{first // PER_PROCESS}"  # its own host key file
            home.mkdir(parents=True, exist_ok=True)
            sims.append(subprocess.Popen(
                [sys.executable, "-m", "bench.fleet_sims", str(min(PER_PROCESS, count - first)),
                 str(home), password], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True))
        for process in sims:
            assert process.stdout is not None
            served = json.loads(process.stdout.readline())
            ports += served["ports"]
            known += served["known_hosts"]
        (folder / "known_hosts").write_text("\n".join(known) + "\n")
        yield ports
    finally:
        for process in sims:
            if process.stdin is not None:
                process.stdin.close()
        for process in sims:
            process.wait(timeout=120)


def main() -> int:
    # Clients dropping their sockets is normal at this scale; keep paramiko's chatter out.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    count, folder, password = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    with ExitStack() as stack:
        ports, known = [], []
        for index in range(count):
            scenario = "panasonic-dead-trunk-card" if index % 10 == 0 else "panasonic-healthy"
            endpoint = stack.enter_context(serve_ssh(
                load_scenario(scenario), host_key_path=folder / "host_key", password=password))
            ports.append(endpoint.port)
            known.append(endpoint.known_hosts_line())
        print(json.dumps({"ports": ports, "known_hosts": known}), flush=True)
        sys.stdin.read()  # block until the benchmark closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
