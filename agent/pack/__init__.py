"""The pre-visit pack: what an engineer needs before driving out to a site.

``data`` gathers it (inventory, the latest run, tickets, backup history), ``parts`` derives
the parts to bring from the evidence through ``drivers/<vendor>/parts.yaml`` and the
office stock list, ``render`` writes one self-contained HTML file and a Markdown twin.
"""

from agent.pack.data import PackData, gather
from agent.pack.render import PackFiles, render_html, render_markdown, write_pack

__all__ = ["PackData", "PackFiles", "gather", "render_html", "render_markdown", "write_pack"]
