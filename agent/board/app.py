"""The board's ASGI application: routes, login, the security headers and the pages.

``build_app(config)`` returns a Starlette app; ``pbxdiag serve`` hands it to uvicorn and
the tests do the same on a loopback port. Every route but the login page needs a session
(or, under ``/api/``, a bearer token); every form carries the session's CSRF token; every
page is rendered by Jinja2 with autoescaping, under a Content-Security-Policy that runs
only the page's own nonce-tagged script — so a ``<script>`` a PBX printed into an error
log is text twice over. Changes go through ``agent.board.actions`` to the register.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import structlog
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from agent.board import views
from agent.board.auth import (
    COOKIE,
    MAX_FAILURES_PER_ADDRESS,
    SESSION_TTL,
    LoginLimiter,
    Session,
    Sessions,
    csrf_ok,
)
from agent.board.users import User, UserFile, authenticate, load, user_for_token
from agent.maintenance import Window
from agent.paths import default_data_dir
from agent.tickets.lifecycle import STATES
from agent.tickets.register import Register
from agent.tickets.storage.location import RegisterLocation

log = structlog.get_logger(__name__)

T = TypeVar("T")
#: Longest form body read (a note is a paragraph, not a file).
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50


@dataclass
class BoardConfig:
    db: RegisterLocation
    users: Path
    inventory: Path | None = None
    refresh_s: int = 30  # how often the board's table re-fetches itself
    #: pbxdiag's data dir: the sites' pre-visit packs and backup histories.
    data_dir: Path = field(default_factory=default_data_dir)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class UsersStore:
    """The users file, re-read when it changes (``pbxdiag users`` edits it while we run)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._data = UserFile()

    def data(self) -> UserFile:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return UserFile()
        if stamp != self._stamp:
            self._data, self._stamp = load(self.path), stamp
        return self._data


@dataclass
class Board:
    """Everything a request handler needs; one per app."""

    config: BoardConfig
    users: UsersStore
    sessions: Sessions = field(default_factory=Sessions)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    address_limiter: LoginLimiter = field(
        default_factory=lambda: LoginLimiter(limit=MAX_FAILURES_PER_ADDRESS))
    templates: Environment = field(default_factory=lambda: make_templates())  # noqa: PLW0108 (defined below)
    inventory_windows: tuple[Window, ...] = ()

    async def db(self, work: Callable[[Register], T]) -> T:
        """Run ``work`` on the register in a worker thread (SQLite may wait for a lock)."""
        def call() -> T:
            with Register(self.config.db) as register:
                return work(register)
        return await run_in_threadpool(call)

    def windows(self, register: Register, now: datetime) -> list[Window]:
        return [*register.maintenance_windows(at=now),
                *(w for w in self.inventory_windows if w.covers(now))]


def make_templates() -> Environment:
    env = Environment(loader=PackageLoader("agent.board", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = views.local
    env.globals["colours"] = views.PRIORITY_COLOURS
    return env


def build_app(config: BoardConfig) -> Starlette:
    from agent.board import actions, admin, api, files, sites, stats

    board = Board(config=config, users=UsersStore(config.users),
                  inventory_windows=_inventory_windows(config.inventory))
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", board_page, methods=["GET"]),
        Route("/board/rows", board_rows, methods=["GET"]),
        Route("/stats", stats.stats_page, methods=["GET"]),
        Route("/sites", sites.sites_page, methods=["GET"]),
        Route("/sites/{site}/pack", files.site_pack, methods=["GET"]),
        Route("/sites/{site}/backups", files.site_backup_diff, methods=["GET"]),
        Route("/admin", admin.admin_page, methods=["GET"]),
        Route("/admin/{action}", admin.admin_action, methods=["POST"]),
        Route("/tickets/{ref}", ticket_page, methods=["GET"]),
        Route("/tickets/{ref}/{action}", actions.ticket_action, methods=["POST"]),
        Route("/api/tickets", api.tickets, methods=["GET"]),
        Route("/api/tickets/{ref}", api.ticket, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.board = board
    return app


def _inventory_windows(path: Path | None) -> tuple[Window, ...]:
    if path is None:
        return ()
    from agent.inventory import load_inventory

    return tuple(w for site in load_inventory(path).sites.values() for w in site.maintenance)


# --- request helpers -------------------------------------------------------------------


def without_csrf(request: Request, form: dict[str, str]) -> Response | None:
    """The refusal of a form posted without its session's CSRF token; None when it has it."""
    if csrf_ok(session_of(request), form.get("csrf")):
        return None
    return page(request, "error.html", {
        "status": 403, "message": "The form's security token is missing or out of date: "
        "reload the page and try again."}, status=403)


def board_of(request: Request) -> Board:
    board: Board = request.app.state.board
    return board


def session_of(request: Request) -> Session | None:
    board = board_of(request)
    return board.sessions.get(request.cookies.get(COOKIE), now=board.config.now())


def current_user(request: Request) -> User | None:
    """The logged-in user (a removed user's session no longer counts)."""
    session = session_of(request)
    if session is None or session.user is None:
        return None
    return board_of(request).users.data().users.get(session.user)


def bearer_user(request: Request) -> User | None:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    return user_for_token(board_of(request).users.data(), secret.strip())


def page(request: Request, template: str, context: dict[str, Any], *,
         status: int = 200, session: Session | None = None) -> HTMLResponse:
    """A rendered page with its CSP nonce, security headers and (new) session cookie."""
    nonce = secrets.token_urlsafe(16)
    session = session or session_of(request)
    html = board_of(request).templates.get_template(template).render(
        request=request, nonce=nonce, csrf=session.csrf if session else "", **context)
    response = HTMLResponse(html, status_code=status)
    secure_headers(response, nonce)
    return response


def secure_headers(response: Response, nonce: str = "") -> None:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {script}; style-src {script}; "
        "connect-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, session.id, max_age=int(SESSION_TTL.total_seconds()),
                        httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        path="/")


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form, bounded in size; anything else is an empty form.

    The body is read here, counting bytes as they arrive, rather than by Starlette's
    parser: a chunked body has no Content-Length to refuse up front, and must not be
    buffered without limit either.
    """
    declared = request.headers.get("content-length") or "0"
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                           max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return {}
    return dict(fields)


def login_redirect(request: Request) -> Response:
    return RedirectResponse("/login", status_code=303)


# --- login -----------------------------------------------------------------------------


async def login_page(request: Request) -> Response:
    board = board_of(request)
    session = session_of(request) or board.sessions.new(user=None, now=board.config.now())
    response = page(request, "login.html", {"error": ""}, session=session)
    set_session_cookie(request, response, session)
    return response


async def login(request: Request) -> Response:
    board = board_of(request)
    now = board.config.now()
    form = await read_form(request)
    session = session_of(request)
    if not csrf_ok(session, form.get("csrf")):
        return _forbidden(request)
    name = form.get("name", "")[:64]
    client = request.client.host if request.client else "?"
    if board.limiter.blocked((name,), now=now) or \
            board.address_limiter.blocked((client,), now=now):
        log.warning("board login refused: too many failures", user=name, client=client)
        return page(request, "login.html", {"error": "Too many failed logins: wait a few "
                                            "minutes."}, status=429)
    user = await run_in_threadpool(authenticate, board.users.data(), name,
                                   form.get("password", ""))
    if user is None:
        board.limiter.failed((name,), now=now)
        board.address_limiter.failed((client,), now=now)
        log.warning("board login failed", user=name, client=client)
        return page(request, "login.html", {"error": "Wrong name or password."}, status=401)
    if session is not None:
        board.sessions.end(session.id)
    fresh = board.sessions.new(user=user.name, now=now)
    log.info("board login", user=user.name, role=user.role, client=client)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, fresh)
    return response


async def logout(request: Request) -> Response:
    form = await read_form(request)
    session = session_of(request)
    if not csrf_ok(session, form.get("csrf")):
        return _forbidden(request)
    if session is not None:
        board_of(request).sessions.end(session.id)
        log.info("board logout", user=session.user,
                 client=request.client.host if request.client else "?")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _forbidden(request: Request) -> Response:
    return page(request, "error.html", {"status": 403, "message": "The form's security token "
                                        "is missing or out of date: reload the page."},
                status=403)


# --- pages -----------------------------------------------------------------------------


def filters_of(request: Request) -> views.Filters:
    q = request.query_params
    page = q.get("page", "1")
    return views.Filters(priority=q.get("priority", "")[:4], state=q.get("state", "")[:40],
                         contract=q.get("contract", "")[:80],
                         engineer=q.get("engineer", "")[:100],
                         page=int(page) if page.isdigit() and len(page) < 6 else 1)


async def read_rows(request: Request) -> tuple[views.Page, list[Window], list[str]]:
    """The page of board rows the request asks for, the windows in force, the contracts."""
    board = board_of(request)
    now = board.config.now()
    filters = filters_of(request)

    def read(register: Register) -> tuple[views.Page, list[Window], list[str]]:
        tickets = register.list_tickets(open_only=True)
        windows = board.windows(register, now)
        rows = views.board_rows(tickets, register.sent_escalations(), now=now,
                                filters=filters, windows=windows)
        return (views.page_of(rows, filters.page), windows,
                sorted({t.contract for t in tickets}))
    return await board.db(read)


async def board_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    rows, windows, contracts = await read_rows(request)
    return page(request, "board.html", {
        "user": user, "rows": rows.rows, "paging": rows, "windows": windows,
        "contracts": contracts,
        "states": STATES, "filters": filters_of(request),
        "refresh_s": board_of(request).config.refresh_s,
        "now": board_of(request).config.now()})


async def board_rows(request: Request) -> Response:
    """The table's body alone: what the page's script fetches to refresh itself."""
    if current_user(request) is None:
        return Response("login needed", status_code=401)
    rows, _, _ = await read_rows(request)
    return page(request, "rows.html", {"rows": rows.rows})


async def ticket_page(request: Request, *, error: str = "", status: int = 200) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    ref = request.path_params["ref"]
    detail = await board_of(request).db(lambda register: ticket_detail(register, ref))
    if detail is None:
        return page(request, "error.html", {"status": 404, "message": f"No ticket {ref}."},
                    status=404)
    now = board_of(request).config.now()
    sent = {e.level for e in detail["escalations_sent"]}
    from agent.board.files import has_backup_diff, pack_path

    data_dir, site_id = board_of(request).config.data_dir, detail["ticket"].site_id
    detail["has_pack"] = pack_path(data_dir, site_id) is not None
    detail["has_backup_diff"] = has_backup_diff(data_dir, site_id)
    return page(request, "ticket.html", {
        **detail, "user": user, "error": error, "states": STATES, "now": now,
        "pending": views.pending_deadlines(detail["ticket"], sent),
        "countdown": views.countdown, "urgency": views.urgency}, status=status)


def ticket_detail(register: Register, ref: str) -> dict[str, Any] | None:
    """One ticket and everything recorded about it; None when there is no such ticket."""
    from agent.tickets.model import TicketNotFound

    try:
        ticket = register.get(ref)
    except TicketNotFound:
        return None
    return {"ticket": ticket, "occurrences": register.occurrences(ref),
            "audit": register.audit(ref), "escalations_sent": register.sent_escalations(ref),
            "outbox": register.outbox(ref=ref)}


def json_response(data: Any, status: int = 200) -> JSONResponse:
    response = JSONResponse(data, status_code=status)
    secure_headers(response)
    return response
