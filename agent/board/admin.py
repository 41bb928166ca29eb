"""The admin page: the board's users and API tokens (the same file ``pbxdiag users`` edits).

Only the ``admin`` role sees or changes it; every form has the session's CSRF token. A new
password is hashed with argon2 as the CLI does; a new token is shown once, on the page
that made it. No hash is ever rendered.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agent.board import app as board_app
from agent.board import users
from agent.errors import InputError


async def admin_page(request: Request, *, message: str = "", new_token: str = "",
                     status: int = 200) -> Response:
    user = board_app.current_user(request)
    if user is None:
        return board_app.login_redirect(request)
    if not user.may("users"):
        return board_app.page(request, "error.html", {
            "status": 403, "message": f"A {user.role} user may not do that."}, status=403)
    data = board_app.board_of(request).users.data()
    return board_app.page(request, "admin.html", {
        "user": user, "users": sorted(data.users.values(), key=lambda u: u.name),
        "tokens": data.tokens, "roles": users.ROLES, "message": message,
        "new_token": new_token}, status=status)


async def admin_action(request: Request) -> Response:
    user = board_app.current_user(request)
    if user is None:
        return board_app.login_redirect(request)
    form = await board_app.read_form(request)
    refused = board_app.without_csrf(request, form)
    if refused is not None:
        return refused
    if not user.may("users") or not user.may("tokens"):
        return board_app.page(request, "error.html", {
            "status": 403, "message": f"A {user.role} user may not do that."}, status=403)
    store = board_app.board_of(request).users
    now = board_app.board_of(request).config.now()
    action = request.path_params["action"]
    name = form.get("name", "")[:64]
    changes: dict[str, Callable[[users.UserFile], users.UserFile]] = {
        "add": lambda d: users.add_user(d, name, form.get("role", ""),
                                        form.get("password", "")[:users.MAX_PASSWORD]),
        "remove": lambda d: users.remove_user(d, name, now=now),
        "revoke": lambda d: users.revoke_token(d, form.get("token", "")[:20], now=now),
    }
    try:
        if action == "token":
            data, secret = users.new_token(store.data(), name, now=now)
            users.save(store.path, data)
            return await admin_page(request, message=f"token for {name}: shown once",
                                    new_token=secret)
        change = changes.get(action)
        if change is None:
            raise InputError("no such action")
        if action == "remove" and name == user.name:
            raise InputError("you cannot remove yourself")
        data = await run_in_threadpool(change, store.data())
        users.save(store.path, data)
    except InputError as err:
        return await admin_page(request, message=str(err), status=400)
    return RedirectResponse("/admin", status_code=303)
