"""The board's changes to a ticket: the same register calls as ``pbxdiag tickets``.

Each action checks, in this order, the login, the form's CSRF token and the user's role,
then calls one ``Register`` method with ``who`` = the user's name, so the lifecycle
rules, the audit trail and the notifications are the register's, never re-implemented
here. A refusal by the register (a move the lifecycle forbids, a bad date) is shown on
the ticket page as the CLI would print it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Final

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agent.board import app as board_app
from agent.board.users import User
from agent.errors import InputError
from agent.tickets.lifecycle import (
    CANCELLED,
    ESCALATED_TO_MANUFACTURER,
    RESOLUTION_STATES,
    Resolution,
)
from agent.tickets.register import Register

#: Action name in the URL → the permission it needs (agent/board/users.py PERMISSIONS).
ACTIONS: Final = {"note": "note", "status": "status", "book-visit": "book_visit",
                  "resolve": "resolve", "escalate": "escalate", "maintenance": "maintenance",
                  "merge": "merge"}
MAX_TEXT: Final = 4000
MAX_PARTS: Final = 20


async def ticket_action(request: Request) -> Response:
    user = board_app.current_user(request)
    if user is None:
        return board_app.login_redirect(request)
    form = await board_app.read_form(request)
    refused = board_app.without_csrf(request, form)
    if refused is not None:
        return refused
    ref = request.path_params["ref"]
    action = request.path_params["action"]
    permission = ACTIONS.get(action)
    if permission is None:
        return board_app.page(request, "error.html", {"status": 404,
                                                      "message": "No such action."},
                              status=404)
    try:
        work = _work(action, ref, form, user, board_app.board_of(request).config.now())
        if not user.may(permission) or not user.may(_extra_permission(action, form)):
            return board_app.page(request, "error.html", {
                "status": 403, "message": f"A {user.role} user may not do that."},
                status=403)
        await board_app.board_of(request).db(work)
    except InputError as err:
        return await board_app.ticket_page(request, error=str(err), status=400)
    return RedirectResponse(f"/tickets/{ref}", status_code=303)


def _extra_permission(action: str, form: dict[str, str]) -> str:
    """A status change to some states needs the permission of the action it amounts to."""
    if action != "status":
        return "read"
    state = form.get("state", "")
    if state == CANCELLED:
        return "cancel"
    if state == ESCALATED_TO_MANUFACTURER:
        return "escalate"
    if state in RESOLUTION_STATES.values():
        return "resolve"
    return "status"


def _work(action: str, ref: str, form: dict[str, str], user: User,
          now: datetime) -> Callable[[Register], object]:
    """The register call for ``action``; bad form input raises InputError before any write."""
    who = user.name
    note = form.get("note", "")[:MAX_TEXT]
    if action == "note":
        text = form.get("text", "")[:MAX_TEXT]
        return lambda r: r.add_note(ref, text, who=who, now=now)
    if action == "status":
        state = form.get("state", "")
        return lambda r: r.set_state(ref, state, who=who, now=now, note=note)
    if action == "escalate":
        return lambda r: r.set_state(ref, ESCALATED_TO_MANUFACTURER, who=who, now=now,
                                     note=note)
    if action == "resolve":
        how = _resolution(form.get("how", ""))
        return lambda r: r.resolve(ref, how, who=who, now=now, note=note)
    builder = _FORM_ACTIONS.get(action)
    if builder is not None:
        return builder(ref, form, who, now)
    visit = _visit_date(form.get("date", ""))
    engineer = form.get("engineer", "")[:100]
    parts = [p.strip()[:100] for p in form.get("parts", "").split(",") if p.strip()]
    if len(parts) > MAX_PARTS:
        raise InputError(f"parts: at most {MAX_PARTS}")
    return lambda r: r.book_visit(ref, visit_date=visit, engineer=engineer, parts=parts,
                                  who=who, now=now)


def _maintenance(ref: str, form: dict[str, str], who: str,
                 now: datetime) -> Callable[[Register], object]:
    """The ticket's site in maintenance from now (as ``pbxdiag sites maintenance``)."""
    from agent.maintenance import check_reason, parse_until

    reason = check_reason(form.get("reason", "")[:MAX_TEXT])
    try:
        ends = parse_until(form.get("until", "")[:40], now).astimezone(UTC)
    except ValueError as err:
        raise InputError(f"until: {err}") from None

    def work(register: Register) -> object:
        site_id = register.get(ref).site_id
        return register.set_maintenance(site_id, starts=now, ends=ends, reason=reason,
                                        who=who, now=now)
    return work


def _merge(ref: str, form: dict[str, str], who: str,
           now: datetime) -> Callable[[Register], object]:
    """This ticket is a duplicate of ``into`` (as ``pbxdiag tickets merge``)."""
    into = form.get("into", "").strip()[:40]
    if not into:
        raise InputError("merge: name the ticket it is merged into")
    return lambda r: r.merge(ref, into=into, who=who, now=now)


_FORM_ACTIONS: Final = {"maintenance": _maintenance, "merge": _merge}


def _resolution(how: str) -> Resolution:
    if how == "remote":
        return "remote"
    if how == "on_site":
        return "on_site"
    raise InputError("resolve: say how — remote or on_site")


def _visit_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"visit date: not a date (YYYY-MM-DD): {text[:40]!r}") from None
