"""One ASGI app serving ported routes natively and falling through to the legacy WSGI app."""

from __future__ import annotations

import gc
import inspect
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.responses import Response as StarletteResponse
from starlette.types import Message, Receive, Scope, Send
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import Map
from werkzeug.wrappers import Response

from cutover.docs import normalise_prefix, relocate_docs
from cutover.inventory import (
    Inventory,
    LegacyRoute,
    build_inventory,
    legacy_routes,
    native_routes,
)
from cutover.limits import LimitedReceive
from cutover.routing import Action, Decision, Router
from cutover.wsgi import (
    DEFAULT_MAX_BODY,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_QUEUE_TIMEOUT,
    WSGIBridge,
    build_environ,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from fastapi import FastAPI

logger = logging.getLogger("cutover")


class Gateway:
    """ASGI app: routes the FastAPI app serves go native, everything else to the legacy app.

    `legacy` is any WSGI callable; one with a werkzeug `url_map` (a Flask app) is routed as
    Flask routes, so converters, strict slashes, automatic HEAD/OPTIONS and 405s keep their
    meaning. `new` holds the ported routes; its docs move under `docs_prefix`.

    freeze_startup_heap: the heap built by startup is moved out of the collector's reach
    (`gc.freeze()`) once startup completes, or at the first request when the server runs no
    lifespan, so full collections stop walking it while requests wait, on both sides alike (see
    `cutover.wsgi_bridge`, whose own first-request freeze only a legacy request would trigger).

    max_body_size (None: unlimited) holds on both sides: a native request declaring more is
    answered 413 by the FastAPI app's own handler for Starlette's `HTTPException` without running
    the endpoint, and a chunked one raises that 413 from `receive` once it passes the limit; the
    legacy side answers as the legacy app does (see `cutover.wsgi_bridge`). legacy_queue_size
    and legacy_queue_timeout bound the legacy requests waiting for a thread (None: unbounded).
    server_software is the legacy environ's `SERVER_SOFTWARE` (default `cutover/<version>`).
    """

    def __init__(
        self,
        legacy: WSGIApplication,
        new: FastAPI | None = None,
        *,
        docs_prefix: str = "/_cutover",
        legacy_threads: int | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY,
        trust_proxy_headers: bool = False,
        freeze_startup_heap: bool = True,
        legacy_queue_size: int | None = DEFAULT_QUEUE_SIZE,
        legacy_queue_timeout: float | None = DEFAULT_QUEUE_TIMEOUT,
        server_software: str | None = None,
    ) -> None:
        bridge_options: dict[str, Any] = {
            "trust_proxy_headers": trust_proxy_headers,
            "freeze_startup_heap": False,
            "max_body_size": max_body_size,
            "queue_size": legacy_queue_size,
            "queue_timeout": legacy_queue_timeout,
            "server_software": server_software,
        }
        if legacy_threads is not None:
            bridge_options["threads"] = legacy_threads
        self.legacy = legacy
        self.new = new
        self.bridge = WSGIBridge(legacy, **bridge_options)
        self.max_body_size = max_body_size
        self.trust_proxy_headers = trust_proxy_headers
        self.server_software = self.bridge.server_software
        self.docs_prefix = normalise_prefix(docs_prefix)
        self._freeze_pending = freeze_startup_heap

        url_map = getattr(legacy, "url_map", None)
        legacy_map = url_map if isinstance(url_map, Map) else None
        config = getattr(legacy, "config", None)
        self._server_name: str | None = config.get("SERVER_NAME") if config else None
        self._response_class: type[Response] = getattr(legacy, "response_class", Response)

        legacy_side: list[LegacyRoute] = legacy_routes(legacy_map) if legacy_map else []
        docs_paths: frozenset[str] = frozenset()
        if new is not None:
            docs_paths = relocate_docs(new, self.docs_prefix)
        native = native_routes(new.router.routes) if new is not None else []
        automatic_options = bool(config.get("PROVIDE_AUTOMATIC_OPTIONS", True)) if config else True
        self.router = Router(native, legacy_side, legacy_map, automatic_options=automatic_options)
        documented = [route for route in native if route.path not in docs_paths]
        self.inventory: Inventory = build_inventory(legacy_side, documented)
        self._log_inventory(legacy_map is not None, docs_paths)

    def _log_inventory(self, route_aware: bool, docs_paths: frozenset[str]) -> None:
        legacy_map = self.router.legacy_map
        if legacy_map is not None and (
            legacy_map.host_matching
            or any(rule.subdomain or rule.host for rule in legacy_map.iter_rules())
        ):
            logger.warning(
                "cutover: the legacy app routes by host or subdomain; the gateway decides on "
                "method and path only"
            )
        for conflict in self.inventory.type_conflicts:
            logger.warning("cutover: parameter types differ: %s", conflict)
        if route_aware:
            for row in self.inventory.new_only:
                logger.info(
                    "cutover: new endpoint %s %s (%s) replaces nothing the legacy app served",
                    row.method,
                    row.path,
                    row.new_endpoint,
                )
            for path in sorted(docs_paths):
                if legacy_map is not None and _legacy_serves(legacy_map, path):
                    logger.warning("cutover: docs path %s shadows a legacy route", path)
        logger.info("cutover: %s", self.inventory.progress())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self._freeze_pending:
                self._freeze_startup_heap()
            path: str = scope["path"]
            root_path: str = scope.get("root_path", "")
            if root_path and path.startswith(root_path):
                path = path[len(root_path) :] or "/"
            decision = self.router.decide(scope["method"], path)
            action = decision.action
            if action is Action.NATIVE:
                await self._native(scope, receive, send)
            elif action is Action.LEGACY:
                if decision.allow is None:
                    await self.bridge(scope, receive, send)
                else:
                    await self.bridge(scope, receive, _with_allow(send, decision.allow))
            else:
                await self._answer_for_legacy(decision, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif self.new is not None:
            await self.new(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _answer_for_legacy(
        self, decision: Decision, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Answer as Flask would have for a path only the new app still has."""
        if decision.action is Action.NATIVE_HEAD:
            await self._native({**scope, "method": "GET"}, receive, _without_body(send))
            return
        environ = build_environ(scope, self.trust_proxy_headers, self.server_software)
        response: Response
        if decision.action is Action.OPTIONS:
            response = self._response_class()
            response.allow.update((decision.allow or "").split(", "))
        elif decision.action is Action.METHOD_NOT_ALLOWED:
            valid = (decision.allow or "").split(", ")
            response = MethodNotAllowed(valid_methods=valid).get_response(environ)
        else:
            redirect = self.router.redirect(environ, self._server_name)
            if redirect is None:
                await self.bridge(scope, receive, send)
                return
            response = redirect.get_response(environ)
        await _send_response(response, environ, send)

    async def _native(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The FastAPI app, held to the body limit; a request without a body pays one scan."""
        new = self.new
        assert new is not None
        limit = self.max_body_size
        if limit is not None:
            for name, value in scope["headers"]:
                if name == b"content-length":
                    # The server delivers no more than it declared: only the number is checked.
                    if int(value) > limit:
                        await self._refuse_native_body(new, scope, receive, send)
                        return
                    break
                if name == b"transfer-encoding":
                    limited = LimitedReceive(receive, limit)
                    await new(scope, limited, _closing_if_exceeded(send, limited))
                    return
        await new(scope, receive, send)

    @staticmethod
    async def _refuse_native_body(new: FastAPI, scope: Scope, receive: Receive, send: Send) -> None:
        """413 from the FastAPI app's own handler, as Starlette would pick it; no endpoint runs."""
        exc = StarletteHTTPException(413)
        handler = _http_exception_handler(new.exception_handlers, exc)
        response: StarletteResponse
        if handler is None:
            response = PlainTextResponse(exc.detail, status_code=exc.status_code)
        else:
            request = Request({**scope, "app": new}, receive)
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)
        response.headers["connection"] = "close"
        await response(scope, receive, send)

    def _freeze_startup_heap(self) -> None:
        self._freeze_pending = False
        gc.freeze()

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.new is None:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    if self._freeze_pending:
                        self._freeze_startup_heap()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.bridge.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

        async def send_to_server(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete" and self._freeze_pending:
                self._freeze_startup_heap()
            elif message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                self.bridge.close()
            await send(message)

        await self.new(scope, receive, send_to_server)


def _http_exception_handler(handlers: Mapping[Any, Any], exc: StarletteHTTPException) -> Any | None:
    """The handler Starlette's ExceptionMiddleware would call for `exc`: by status, then class.

    Handlers for `Exception` (and 500) belong to the server-error middleware, so they are skipped.
    """
    handler = handlers.get(exc.status_code)
    if handler is not None:
        return handler
    for cls in type(exc).__mro__:
        if cls is Exception:
            break
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None


def _closing_if_exceeded(send: Send, limited: LimitedReceive) -> Send:
    """`send` adding `Connection: close` to the answer once the body passed the limit."""

    async def send_closing(message: Message) -> None:
        if message["type"] == "http.response.start" and limited.exceeded:
            headers = [*message.get("headers", []), (b"connection", b"close")]
            message = {**message, "headers": headers}
        await send(message)

    return send_closing


def _legacy_serves(url_map: Map, path: str) -> bool:
    return bool(list(url_map.bind("localhost").allowed_methods(path)))


def _with_allow(send: Send, allow: str) -> Send:
    """`send` with the Allow header of a 405/OPTIONS answer replaced by both sides' methods."""
    value = allow.encode("latin-1")

    async def send_with_allow(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            if any(name.lower() == b"allow" for name, _ in headers):
                message = {
                    **message,
                    "headers": [
                        (name, value if name.lower() == b"allow" else old) for name, old in headers
                    ],
                }
        await send(message)

    return send_with_allow


def _without_body(send: Send) -> Send:
    """`send` for HEAD: headers pass, the body is dropped, the response still ends once."""

    async def send_head(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
        elif not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return send_head


async def _send_response(response: Response, environ: dict[str, Any], send: Send) -> None:
    """Send a werkzeug response as ASGI messages, with the headers and body WSGI would give."""
    app_iter, status, headers = response.get_wsgi_response(environ)
    body_parts: Iterable[bytes] = app_iter
    await send(
        {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"".join(body_parts), "more_body": False})
