"""``pbxdiag help TOPIC`` and the man page: the pages of ``docs/``, rendered for a terminal.

The text lives once, in the Markdown a user reads on the web; this module only finds a
topic's page (or one section of it) and strips the markup — it holds no copy of any text,
so the help cannot drift from the docs. The docs use a small, regular subset of Markdown
(ATX headings, fenced code, pipe tables, ``-`` lists, inline code, bold, links), which a
line-by-line pass renders faithfully; a full Markdown parser would add a dependency for
constructs the pages do not use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.errors import InputError
from agent.paths import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
#: A docs page is a few hundred lines; a bigger one is not a page this module renders.
MAX_PAGE_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    page: str  # a file in docs/
    section: str | None  # one "## heading" of it, or the whole page
    summary: str


TOPICS = {topic.name: topic for topic in (
    Topic("inventory", "inventory.md", None, "the inventory file: every key, an example"),
    Topic("playbooks", "playbooks.md", None, "the playbook language reference"),
    Topic("tickets", "tickets.md", None, "fault tickets, the register, the SLA clock"),
    Topic("exit-codes", "reliability.md", "Exit codes", "what each exit code means"),
    Topic("scale", "scale.md", None, "workers per modem pool, the broker, the register on "
          "PostgreSQL"),
)}

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_COMMENT = re.compile(r"<!--.*?-->")
_TABLE_RULE = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def topic_markdown(name: str) -> str:
    """The Markdown of one topic: its page, or the one section of it."""
    topic = TOPICS.get(name)
    if topic is None:
        raise InputError(f"no help topic {name!r} (topics: {', '.join(TOPICS)})")
    path = DOCS / topic.page
    try:
        with path.open(encoding="utf-8") as handle:
            text = handle.read(MAX_PAGE_BYTES)
    except OSError as err:
        raise InputError(f"cannot read the docs page for {name!r} ({err.strerror}): help "
                         "topics need the repository's docs/ folder", path=str(path)) from None
    return text if topic.section is None else _section(text, topic.section, path)


def _section(text: str, heading: str, path: Path) -> str:
    """From the heading to the next heading of the same or a higher level."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        found = _HEADING.match(line)
        if found and found.group(2) == heading:
            level = len(found.group(1))
            end = next((index for index in range(start + 1, len(lines))
                        if (other := _HEADING.match(lines[index]))
                        and len(other.group(1)) <= level), len(lines))
            return "\n".join(lines[start:end]).rstrip() + "\n"
    raise InputError(f"the docs page has no section {heading!r}", path=str(path))


def inline(text: str) -> str:
    """Inline markup off: links keep their text, code and bold their words."""
    text = _COMMENT.sub("", text)
    text = _LINK.sub(lambda match: match.group(1), text)
    text = _CODE.sub(lambda match: match.group(1), text)
    text = _BOLD.sub(lambda match: match.group(1), text)
    return text.replace("\\|", "|")


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "heading", "code", "table", "text", "blank"
    lines: tuple[str, ...]
    level: int = 0


def blocks(markdown: str) -> Iterator[Block]:
    """The page as headings, code blocks, tables, text lines and blank lines."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            end = next((at for at in range(index, len(lines)) if _FENCE.match(lines[at])),
                       len(lines))
            yield Block("code", tuple(lines[index:end]))
            index = end + 1
        elif heading := _HEADING.match(line):
            yield Block("heading", (inline(heading.group(2)),), len(heading.group(1)))
        elif line.lstrip().startswith("|"):
            end = next((at for at in range(index, len(lines))
                        if not lines[at].lstrip().startswith("|")), len(lines))
            yield Block("table", _table(lines[index - 1:end]))
            index = end
        elif _COMMENT.fullmatch(line.strip()):
            continue
        elif not line.strip():
            yield Block("blank", ())
        else:
            yield Block("text", (inline(line),))


def _table(rows: list[str]) -> tuple[str, ...]:
    """A pipe table as rows of columns padded to the widest cell (the last not padded)."""
    cells = [[inline(cell.strip()) for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]
             for row in rows if not _TABLE_RULE.match(row.strip())]
    width = max(len(row) for row in cells)
    sizes = [max((len(row[at]) for row in cells if at < len(row)), default=0)
             for at in range(width)]
    return tuple("  ".join(cell.ljust(sizes[at]) if at < len(row) - 1 else cell
                           for at, cell in enumerate(row)) for row in cells)


def render_plain(markdown: str) -> str:
    """For a terminal: headings underlined, code indented, tables as aligned-ish rows."""
    out: list[str] = []
    for block in blocks(markdown):
        if block.kind == "heading":
            title = block.lines[0]
            out.append(title.upper() if block.level <= 2 else title)
            if block.level <= 2:
                out.append(("=" if block.level == 1 else "-") * len(title))
        elif block.kind == "code":
            out.extend(f"    {line}".rstrip() for line in block.lines)
        elif block.kind == "table":
            out.extend(f"  {line}" for line in block.lines)
        elif block.kind == "blank":
            out.append("")
        else:
            out.extend(block.lines)
    return "\n".join(out).strip("\n") + "\n"


def render_roff(markdown: str) -> str:
    """For the man page: ``##`` as ``.SS``, code and tables unfilled, text filled."""
    out: list[str] = []
    verbatim = False

    def fill() -> None:
        nonlocal verbatim
        if verbatim:
            out.extend((".fi", ".RE"))
            verbatim = False

    for number, block in enumerate(blocks(markdown)):
        if number == 0 and block.kind == "heading":
            continue  # the page's own title: the man page's section heading says it
        if block.kind in ("code", "table"):
            if not verbatim:
                out.extend((".PP", ".RS 4", ".nf"))
                verbatim = True
            out.extend(roff_escape(line) for line in block.lines)
            if block.kind == "code":
                fill()
            continue
        fill()
        if block.kind == "heading" and block.level > 1:
            out.append(f".SS {roff_escape(block.lines[0])}" if block.level == 2
                       else f".PP\n.B {roff_escape(block.lines[0])}")
        elif block.kind == "blank":
            out.append(".PP")
        elif block.kind == "text":
            line = block.lines[0].strip()
            if line.startswith("- "):
                out.extend((r".IP \(bu 2", roff_escape(line[2:])))
            else:
                out.append(roff_escape(line))
    fill()
    return "\n".join(_squeeze(out)) + "\n"


def _squeeze(lines: list[str]) -> Iterator[str]:
    """No paragraph break twice in a row, nor right after a heading."""
    previous = ".SS"
    for line in lines:
        if line == ".PP" and previous.startswith((".PP", ".SS", ".B", ".IP")):
            continue
        previous = line
        yield line


def roff_escape(text: str) -> str:
    """A line roff prints as written: backslashes escaped, no line read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return f"\\&{text}" if text.startswith((".", "'")) else text
