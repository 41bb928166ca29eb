"""``pbxdiag console``: a live session at a PBX through the site's line (docs/console.md).

``session`` runs one session (line, login, backup, keys, escapes, transcript); ``escapes``
reads the ssh-style escapes; ``terminal`` owns raw mode and hang-up signals; ``lock`` is
the site's line lock shared with ``pbxdiag run`` across processes.
"""

from agent.console_session.session import ConsoleSession, SessionRecord
from agent.sitelock import LineInUse, site_line

__all__ = ["ConsoleSession", "LineInUse", "SessionRecord", "site_line"]
