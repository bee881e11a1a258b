"""The dashboard: server-rendered pages at `{prefix}/` behind a login with the admin token.

A pure ASGI app the gateway serves among its own paths. Every page needs the session cookie
(else the login page is shown); every POST needs the session's CSRF token (else 403). Store
calls run in a worker thread, never on the event loop."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from cutover.asgi import route_path
from cutover.control.store import StateStore, StoreUnavailable
from cutover.dashboard import data
from cutover.dashboard.controls import Controls
from cutover.dashboard.listing import SORT_KEYS, Listing
from cutover.dashboard.session import (
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    Session,
    Sessions,
    cookie_header,
)
from cutover.dashboard.static import StaticFiles
from cutover.dashboard.templates import environment
from cutover.dashboard.web import (
    FormTooLarge,
    Request,
    read_request,
    send_bytes,
    send_html,
    send_redirect,
)

logger = logging.getLogger("cutover.dashboard")

REFRESH_SECONDS = 5
PAGES = ("/", "/login", "/logout", "/route", "/processes", "/switch", "/promote")

_T = TypeVar("_T")
View = Callable[[Request, Session, Send], Awaitable[None]]


class Dashboard:
    """The pages under `prefix` for whoever logs in with `token`; `paths()` for the gateway."""

    def __init__(
        self,
        store: StateStore,
        token: str,
        prefix: str = "/_cutover",
        fallback: ASGIApp | None = None,
    ) -> None:
        self.store = store
        # `{prefix}/` is also the gateway's key for every path one level under the prefix: the
        # paths that are not the dashboard's (FastAPI's relocated ReDoc) go to `fallback`.
        self.fallback = fallback
        self.prefix = "/" + prefix.strip("/")
        self.sessions = Sessions(token)
        self.templates = environment()
        self.static = StaticFiles()
        self.controls = Controls(self)
        self._pages: dict[str, View] = {
            "/": self._overview,
            "/route": self._route,
            "/processes": self._processes,
        }
        self._actions: dict[str, View] = {
            "/logout": self._logout,
            "/switch": self.controls.switch,
            "/promote": self.controls.promote,
        }

    def paths(self) -> dict[str, ASGIApp]:
        """Exact paths, and `{prefix}/static/` for the assets one level under it."""
        found: dict[str, ASGIApp] = {self.prefix + page: self for page in PAGES}
        found[self.prefix + "/static/"] = self
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        below = route_path(scope)[len(self.prefix) :]
        if below not in PAGES and not below.startswith("/static/"):
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            else:
                await send_bytes(send, 404, b"not found\n", "text/plain; charset=utf-8")
            return
        try:
            request = await read_request(scope, receive, self.prefix)
        except FormTooLarge:
            await send_html(send, 413, "<p>That form is too large.</p>")
            return
        method = request.method
        if request.path.startswith("/static/"):
            await self.static.serve(request.path.removeprefix("/static/"), method, send)
            return
        if request.path == "/login":
            if method == "POST":
                await self._login(request, send)
            else:
                await self.login_page(request, send)
            return
        session = self.sessions.verify(request.cookie(SESSION_COOKIE))
        if session is None:
            await self.login_page(request, send, status=401)
            return
        if method in ("GET", "HEAD") and request.path in self._pages:
            await self._pages[request.path](request, session, send)
        elif method == "POST" and request.path in self._actions:
            if not self.sessions.csrf_matches(session, request.field("csrf")):
                logger.warning("cutover: dashboard: a %s without its CSRF token", request.path)
                await self.error(request, session, send, 403, "This form is not yours (CSRF).")
                return
            await self._actions[request.path](request, session, send)
        elif request.path in self._pages or request.path in self._actions:
            await self.error(request, session, send, 405, f"{method} is not served here.")
        else:
            await self.error(request, session, send, 404, "No such page.")

    # -- helpers the views share ----------------------------------------------------------

    async def run(self, call: Callable[..., _T], *args: Any) -> _T:
        return await anyio.to_thread.run_sync(functools.partial(call, *args))

    def render(self, name: str, request: Request, session: Session | None, **values: Any) -> str:
        context = {
            "base": request.base,
            "csrf": session.csrf if session else "",
            "refresh": REFRESH_SECONDS,
            "page": request.path,
            "quote": quote,
            **values,
        }
        return self.templates.get_template(name).render(context)

    async def page(
        self,
        request: Request,
        session: Session,
        send: Send,
        name: str,
        status: int = 200,
        **values: Any,
    ) -> None:
        """A page, or only its live part (`?fragment=1`, what the refreshing script asks for)."""
        if request.arg("fragment") == "1":
            name = name.replace(".html", "_live.html")
            html = self.render(name, request, session, **values)
            await send_html(send, status, html, [(b"x-cutover-fragment", b"1")])
            return
        html = self.render(name, request, session, **values)
        await send_html(send, status, html, head=request.method == "HEAD")

    async def error(
        self, request: Request, session: Session | None, send: Send, status: int, message: str
    ) -> None:
        html = self.render("error.html", request, session, status=status, message=message)
        await send_html(send, status, html)

    async def unavailable(
        self, request: Request, session: Session, send: Send, exc: StoreUnavailable
    ) -> None:
        logger.warning("cutover: dashboard: %s", exc)
        await self.error(request, session, send, 503, f"The state store is unavailable: {exc}")

    # -- login ----------------------------------------------------------------------------

    async def login_page(
        self, request: Request, send: Send, *, status: int = 200, error: str = ""
    ) -> None:
        nonce = self.sessions.login_nonce()
        target = request.field("next") if request.method == "POST" else request.target
        html = self.render(
            "login.html",
            request,
            None,
            nonce=nonce,
            next=self._safe_next(request, target),
            error=error,
        )
        cookie = cookie_header(LOGIN_COOKIE, nonce, request.base + "/", LOGIN_SECONDS)
        await send_html(send, status, html, [cookie], head=request.method == "HEAD")

    async def _login(self, request: Request, send: Send) -> None:
        nonce = request.cookie(LOGIN_COOKIE) or ""
        if not nonce or not self.sessions.nonce_matches(nonce, request.field("csrf")):
            await self.error(request, None, send, 403, "The login form expired; load it again.")
            return
        if not self.sessions.token_matches(request.field("token")):
            logger.warning("cutover: dashboard: a login with a wrong token")
            await self.login_page(request, send, status=401, error="That is not the admin token.")
            return
        path = request.base + "/"
        headers = [
            cookie_header(SESSION_COOKIE, self.sessions.issue(), path, SESSION_SECONDS),
            cookie_header(LOGIN_COOKIE, "", path, 0),
        ]
        await send_redirect(send, self._safe_next(request, request.field("next")), headers)

    async def _logout(self, request: Request, session: Session, send: Send) -> None:
        cookie = cookie_header(SESSION_COOKIE, "", request.base + "/", 0)
        await send_redirect(send, request.base + "/login", [cookie])

    def _safe_next(self, request: Request, target: str) -> str:
        """Only a page of the dashboard itself: no open redirect to anywhere else."""
        home = request.base + "/"
        inside = target.startswith(home) and not target.startswith((home + "/", home + "login"))
        return target if inside and "\\" not in target else home

    # -- pages ----------------------------------------------------------------------------

    async def _overview(self, request: Request, session: Session, send: Send) -> None:
        try:
            found = await self.run(data.overview, self.store)
        except StoreUnavailable as exc:
            await self.unavailable(request, session, send, exc)
            return
        listing = Listing.from_query(request.query)
        await self.page(
            request,
            session,
            send,
            "overview.html",
            overview=found,
            rows=listing.apply(found.rows),
            listing=listing,
            columns=list(SORT_KEYS),
            query=urlencode({"q": listing.q, "mode": listing.mode}),
        )

    async def _route(self, request: Request, session: Session, send: Send) -> None:
        route = request.arg("route")
        try:
            detail = await self.run(data.route_detail, self.store, route)
        except StoreUnavailable as exc:
            await self.unavailable(request, session, send, exc)
            return
        if detail is None:
            await self.error(request, session, send, 404, f"No gateway publishes {route!r}.")
            return
        await self.route_page(request, session, send, detail)

    async def route_page(
        self,
        request: Request,
        session: Session,
        send: Send,
        detail: data.RouteDetail,
        status: int = 200,
        error: str = "",
    ) -> None:
        await self.page(
            request,
            session,
            send,
            "route.html",
            status,
            detail=detail,
            row=detail.row,
            error=error,
            done=request.arg("done"),
        )

    async def _processes(self, request: Request, session: Session, send: Send) -> None:
        try:
            found = await self.run(data.processes, self.store)
        except StoreUnavailable as exc:
            await self.unavailable(request, session, send, exc)
            return
        await self.page(request, session, send, "processes.html", found=found)
