"""The docs are self-contained (issue 19): every Markdown link in README.md and docs/
points inside the repository at a file that exists, and no page sends the reader to
notes that are not in the repository a user clones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])
_LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
_OUTSIDE_NOTES = re.compile(r"shared/|\b(?:DESIGN|SLA|DOMAIN)\.md\b")


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [a or b for a, b in _LINK.findall(text)]


def problems(page: Path, root: Path = REPO) -> list[str]:
    found = []
    for target in links(page):
        path = target.split("#", 1)[0]
        if "://" in target or target.startswith("mailto:"):
            found.append(f"{page.name}: {target} leaves the repository")
        elif path and not (page.parent / path).resolve().is_relative_to(root):
            found.append(f"{page.name}: {target} points outside the repository")
        elif path and not (page.parent / path).resolve().exists():
            found.append(f"{page.name}: {target} does not exist")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_stays_in_the_repository_and_resolves(page: Path) -> None:
    assert problems(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_page_refers_to_notes_outside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert not _OUTSIDE_NOTES.search(text), f"{page.name} points at notes not in the repo"


def test_the_checker_catches_broken_and_outside_links(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "here.md").write_text("ok\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text("[a](missing.md) [b](https://example.org) [c](../../elsewhere.md) "
                    "[d](here.md#part) [e](#anchor)\n```\n[f](in-a-fence.md)\n```\n")
    assert problems(page, root=tmp_path) == [
        "page.md: missing.md does not exist",
        "page.md: https://example.org leaves the repository",
        "page.md: ../../elsewhere.md points outside the repository",
    ]
