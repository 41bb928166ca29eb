"""The README shows what the program prints today (issue 19): its sample of `make demo`
is compared with a real demo run, modulo ports, times and run ids — so it cannot go stale.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_VOLATILE = (
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"due \w{3} \d\d \w{3} \d{4} \d\d:\d\d \w+"), "due DATE"),
    (re.compile(r"runs/\d{8}T\d{6}Z-[\w-]+-[0-9a-f]{6}"), "runs/RUN"),
)


def normalise(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def readme_sample() -> str:
    """The first fenced block after the sentence that introduces the demo's output."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    after = readme.split("runs the shipped health check through the whole stack, and prints:", 1)
    assert len(after) == 2, "the README no longer introduces the demo's output"
    block = re.search(r"```\n(.*?)```", after[1], re.S)
    assert block is not None
    return block.group(1)


def test_the_readme_shows_what_make_demo_prints(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    run = subprocess.run([sys.executable, "-m", "agent.cli", "demo"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    assert normalise(readme_sample()) == normalise(run.stdout)
