"""What an engineer prepared for a site, linked from its tickets: the pre-visit pack and
the backup diff (the last two revisions). Both live under pbxdiag's data dir, which the
board is told with ``--data``; a site id is checked against the inventory's safe pattern
before it names a file, so no request can reach outside those folders."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from agent.backups import diff_backups, history_for
from agent.board import app as board_app
from agent.inventory import SITE_ID


def pack_path(data_dir: Path, site_id: str) -> Path | None:
    if not SITE_ID.match(site_id):
        return None
    path = data_dir / "packs" / f"{site_id}-pre-visit.html"
    return path if path.is_file() else None


def has_backup_diff(data_dir: Path, site_id: str) -> bool:
    return bool(SITE_ID.match(site_id)) and len(history_for(data_dir, site_id).revisions()) > 1


def backup_diff_text(data_dir: Path, site_id: str) -> str | None:
    """The last two revisions compared, as ``pbxdiag backups diff`` prints it."""
    if not has_backup_diff(data_dir, site_id):
        return None
    history = history_for(data_dir, site_id)
    old, new = history.resolve("-2"), history.resolve("-1")
    diff = diff_backups(history.text(old), history.text(new),
                        new.vendor or old.vendor or "panasonic")
    head = f"{site_id}: r{old.number} → r{new.number} (volatile lines, the clock, left out)"
    return "\n".join([head, *(diff.unified or ("no change",))]) + "\n"


async def site_pack(request: Request) -> Response:
    """The pack as a download: it is a self-contained page of its own, not a board page."""
    if board_app.current_user(request) is None:
        return board_app.login_redirect(request)
    site_id = request.path_params["site"]
    path = pack_path(board_app.board_of(request).config.data_dir, site_id)
    if path is None:
        return PlainTextResponse(f"no pre-visit pack for {site_id}", status_code=404)
    return FileResponse(path, filename=path.name, media_type="text/html",
                        content_disposition_type="attachment")


async def site_backup_diff(request: Request) -> Response:
    if board_app.current_user(request) is None:
        return board_app.login_redirect(request)
    site_id = request.path_params["site"]
    text = backup_diff_text(board_app.board_of(request).config.data_dir, site_id)
    if text is None:
        return PlainTextResponse(f"no two backups of {site_id} to compare", status_code=404)
    return PlainTextResponse(text)
