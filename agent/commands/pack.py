"""``pbxdiag pack --site X``: the pre-visit pack (HTML and Markdown)."""

from __future__ import annotations

from typing import Any


def register(commands: Any) -> None:
    commands.add_parser("pack", help="the pre-visit pack of a site (HTML and Markdown)")
