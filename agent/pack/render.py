"""The pack as one self-contained HTML file and its Markdown twin (Jinja2 templates).

HTML autoescaping is on: every string in the pack came from a PBX or a person, and a PBX
can print ``<script>``. The HTML has no external assets (CSS inline, the cabinet drawing
an inline SVG, no script at all), so it opens offline on a laptop in a plant room and
prints as it looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from agent.pack.data import PackData

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The drawing's geometry: one column per slot.
SLOT_WIDTH = 86
SLOT_HEIGHT = 150


@dataclass(frozen=True, slots=True)
class PackFiles:
    html: Path
    markdown: Path


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html", "svg"], default=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.globals.update(slot_width=SLOT_WIDTH, slot_height=SLOT_HEIGHT)
    env.filters["md"] = _markdown_cell
    return env


def _markdown_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks, no raw HTML."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def render_html(data: PackData) -> str:
    return _environment().get_template("pack.html").render(pack=data)


def render_markdown(data: PackData) -> str:
    return _environment().get_template("pack.md").render(pack=data)


def write_pack(data: PackData, folder: Path) -> PackFiles:
    """Write ``<site>-pre-visit.html`` and ``.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = PackFiles(html=folder / f"{data.site.id}-pre-visit.html",
                      markdown=folder / f"{data.site.id}-pre-visit.md")
    files.html.write_text(render_html(data), encoding="utf-8")
    files.markdown.write_text(render_markdown(data), encoding="utf-8")
    return files
