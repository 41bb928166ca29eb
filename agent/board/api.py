"""``/api/tickets`` and ``/api/tickets/{ref}``: the board's data as JSON, read-only.

Answered to a logged-in session or a bearer token (``pbxdiag users token NAME``); anyone
else gets 401 with ``WWW-Authenticate: Bearer``. The list is the board's (open tickets,
next deadline first, same filters); one ticket is what ``tickets show --json`` prints,
so scripts reading either see one shape. Nothing from the inventory is in either.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from agent.board import app as board_app
from agent.board.users import User
from agent.reports.tickets import render_ticket
from agent.tickets.register import Register


def _user(request: Request) -> User | None:
    return board_app.current_user(request) or board_app.bearer_user(request)


def _unauthorised() -> Response:
    response = board_app.json_response({"error": "login or a bearer token needed"}, 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="pbxdiag"'
    return response


async def tickets(request: Request) -> Response:
    if _user(request) is None:
        return _unauthorised()
    rows, _, _ = await board_app.read_rows(request)
    return board_app.json_response({"tickets": [row.to_json() for row in rows.rows],
                                    "page": rows.number, "pages": rows.pages,
                                    "total": rows.total})


async def ticket(request: Request) -> Response:
    if _user(request) is None:
        return _unauthorised()
    ref = request.path_params["ref"]

    def read(register: Register) -> dict[str, Any] | None:
        detail = board_app.ticket_detail(register, ref)
        if detail is None:
            return None
        parsed: dict[str, Any] = json.loads(render_ticket(
            detail["ticket"], detail["occurrences"], detail["audit"], as_json=True,
            escalations=detail["escalations_sent"], outbox=detail["outbox"]))
        return parsed
    data = await board_app.board_of(request).db(read)
    if data is None:
        return board_app.json_response({"error": f"no ticket {ref}"}, 404)
    return board_app.json_response(data)
