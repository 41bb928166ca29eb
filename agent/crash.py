"""The CLI's last guard: an exception nobody expected becomes a short message, exit 70,
and a crash report on disk — never a traceback on the support engineer's terminal.

The report holds the traceback with every known secret masked (the redactor has seen
every password this process revealed), so it can be attached to a bug report as it is.
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from agent.line.secrets import REDACTOR
from agent.paths import default_data_dir


def _without_url_passwords(arg: str) -> str:
    """An argument with any URL's password masked (``--db postgresql://u:pw@h/db``), even
    one too short for the redactor to know."""
    from agent.tickets.storage.location import redacted

    head, sep, url = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    return f"{head}{sep}{redacted(url)}" if "://" in url else arg


def write_crash_report(error: BaseException, argv: list[str],
                       folder: Path | None = None) -> Path | None:
    """Write the redacted traceback; None if even that fails (the message still prints)."""
    where = folder or default_data_dir() / "crash"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    text = "".join([
        f"pbxdiag crash report {stamp}\n",
        f"command: {' '.join(_without_url_passwords(arg) for arg in argv)}\n\n",
        *traceback.format_exception(error),
    ])
    try:
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = where / f"crash-{stamp}-{os.getpid()}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(REDACTOR.scrub(text))
    except OSError:
        return None
    return path
