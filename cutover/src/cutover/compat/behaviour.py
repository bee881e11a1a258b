"""Flask's automatic HEAD/OPTIONS, strict-slash 308 and 413, for a port without the gateway."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from fastapi import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from werkzeug.urls import iri_to_uri

from cutover.asgi import allow_header, without_body
from cutover.compat.errors import werkzeug_error_response, werkzeug_redirect
from cutover.compat.methods import allowed_methods
from cutover.limits import LimitedReceive

__all__ = ["AutomaticHeadOptions", "BodySizeLimit", "slash_redirect"]


def slash_redirect(request: Request) -> Response:
    """Flask's answer for a rule ending in a slash requested without it: 308 to the slash URL."""
    query = request.url.query
    url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}/"
    return werkzeug_redirect(iri_to_uri(url + (f"?{query}" if query else "")))


class BodySizeLimit:
    """ASGI middleware answering Werkzeug's 413 page past `max_content_length`, as Flask does."""

    def __init__(self, app: ASGIApp, *, max_content_length: int) -> None:
        self.app = app
        self.max_content_length = max_content_length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            too_large = value.isdigit() and int(value) > self.max_content_length
            if name == b"content-length" and too_large:
                await werkzeug_error_response(413)(scope, receive, send)
                return
        await self.app(scope, self._limited(receive), send)

    def _limited(self, receive: Receive) -> Callable[[], Awaitable[Message]]:
        return LimitedReceive(receive, self.max_content_length)


class AutomaticHeadOptions:
    """ASGI middleware giving routes Flask's automatic methods: HEAD runs GET without the body,
    OPTIONS answers 200 with `Allow`. `routes` are the app's, e.g. `fastapi_app.router.routes`.
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    def _served(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or method not in ("HEAD", "OPTIONS") or self._served(scope):
            await self.app(scope, receive, send)
            return
        if method == "OPTIONS":
            methods = allowed_methods(self.routes, scope)
            if methods:
                headers = {
                    "Allow": allow_header(sorted(methods)),
                    "Content-Type": "text/html; charset=utf-8",
                }
                response = Response(b"", headers=headers)
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        get_scope = {**scope, "method": "GET"}
        if not self._served(get_scope):
            await self.app(scope, receive, send)
            return
        await self.app(get_scope, receive, without_body(send))
