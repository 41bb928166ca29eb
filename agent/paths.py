"""Where pbxdiag keeps its files by default (XDG base directories) and ships its own."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PLAYBOOKS = PROJECT_ROOT / "playbooks"


def default_data_dir() -> Path:
    """XDG data home: where the real ticket register and run results live."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pbxdiag"
