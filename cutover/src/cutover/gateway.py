"""One ASGI app serving ported routes natively and falling through to the legacy WSGI app."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from starlette.types import Message, Receive, Scope, Send
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import Map
from werkzeug.wrappers import Response

from cutover.asgi import route_path, without_body
from cutover.docs import normalise_prefix, relocate_docs
from cutover.inventory import Inventory, build_inventory
from cutover.limits import LimitedReceive, closing_if_exceeded, refuse_body
from cutover.routes import LegacyRoute, legacy_routes, new_routes
from cutover.routing import Action, Decision, Router
from cutover.settings import GatewaySettings
from cutover.wsgi import (
    DEFAULT_MAX_BODY,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_QUEUE_TIMEOUT,
    DEFAULT_THREADS,
    WSGIBridge,
    build_environ,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from fastapi import FastAPI

logger = logging.getLogger("cutover")


class Gateway:
    """ASGI app: routes the FastAPI app serves go to it, everything else to the legacy app.

    `legacy` is any WSGI callable; one with a werkzeug `url_map` (a Flask app) is routed as
    Flask routes, so converters, strict slashes, automatic HEAD/OPTIONS and 405s keep their
    meaning. `new` is the FastAPI app holding the ported routes; the gateway changes one thing in
    it: its docs pages and OpenAPI document move under `docs_prefix` (`cutover.docs`).

    max_body_size holds on both sides: a new-side request declaring more is answered 413 by the
    FastAPI app's own handler for Starlette's `HTTPException` without running the endpoint, and a
    chunked one raises that 413 from `receive` once it passes the limit; the legacy side answers
    as the legacy app does (`cutover.wsgi`). legacy_queue_size and legacy_queue_timeout
    bound the legacy requests waiting for a thread. server_software is the legacy environ's
    `SERVER_SOFTWARE` (default `cutover/<version>`). For every limit, None means no limit.

    freeze_startup_heap (off unless asked for): once startup completes (or at the first request
    when the server runs no lifespan) the heap built so far is moved out of the collector's reach
    with `gc.freeze()`, so full collections stop walking it while requests wait; the cost is that
    cyclic garbage created before then is never freed. It took p99 on a tiny route from ~20 ms to
    ~6 ms (bench/README.md).
    """

    def __init__(
        self,
        legacy: WSGIApplication,
        new: FastAPI | None = None,
        *,
        docs_prefix: str = "/_cutover",
        legacy_threads: int = DEFAULT_THREADS,
        max_body_size: int | None = DEFAULT_MAX_BODY,
        trust_proxy_headers: bool = False,
        freeze_startup_heap: bool = False,
        legacy_queue_size: int | None = DEFAULT_QUEUE_SIZE,
        legacy_queue_timeout: float | None = DEFAULT_QUEUE_TIMEOUT,
        server_software: str | None = None,
    ) -> None:
        self.legacy = legacy
        self.new = new
        self.bridge = WSGIBridge(
            legacy,
            threads=legacy_threads,
            max_body_size=max_body_size,
            trust_proxy_headers=trust_proxy_headers,
            freeze_startup_heap=False,  # the gateway freezes once, for both sides
            queue_size=legacy_queue_size,
            queue_timeout=legacy_queue_timeout,
            server_software=server_software,
        )
        self.max_body_size = max_body_size
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
        new_side = new_routes(new.router.routes) if new is not None else []
        automatic_options = True
        if config and "PROVIDE_AUTOMATIC_OPTIONS" in getattr(legacy, "default_config", ()):
            # Flask 3.1 added the setting; older Flask always adds OPTIONS, whatever it says.
            automatic_options = bool(config.get("PROVIDE_AUTOMATIC_OPTIONS", True))
        self.router = Router(new_side, legacy_side, legacy_map, automatic_options=automatic_options)
        documented = [route for route in new_side if route.path not in docs_paths]
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

    @classmethod
    def from_settings(
        cls,
        legacy: WSGIApplication,
        new: FastAPI | None = None,
        settings: GatewaySettings | None = None,
        **overrides: Any,
    ) -> Gateway:
        """A gateway configured by `settings`, read from the `CUTOVER_*` variables when omitted;
        `overrides` win over both (e.g. `freeze_startup_heap=True`)."""
        options = (settings or GatewaySettings()).model_dump()
        return cls(legacy, new, **{**options, **overrides})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self._freeze_pending:
                self._freeze_startup_heap()
            decision = self.router.decide(scope["method"], route_path(scope))
            match decision.action:
                case Action.NEW:
                    await self._serve_new(scope, receive, send)
                case Action.LEGACY:
                    allow = decision.allow
                    await self.bridge(
                        scope, receive, send if allow is None else _with_allow(send, allow)
                    )
                case Action.NEW_HEAD:
                    await self._serve_new({**scope, "method": "GET"}, receive, without_body(send))
                case Action.OPTIONS | Action.METHOD_NOT_ALLOWED | Action.REDIRECT:
                    await self._answer_as_flask(decision, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif self.new is not None:
            await self.new(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _answer_as_flask(
        self, decision: Decision, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """OPTIONS, 405 or the strict-slash redirect, answered as Flask would have."""
        bridge = self.bridge
        environ = build_environ(scope, bridge.trust_proxy_headers, bridge.server_software)
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

    async def _serve_new(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The FastAPI app, held to the body limit; a request without a body pays one scan."""
        new = self.new
        assert new is not None
        limit = self.max_body_size
        if limit is not None:
            for name, value in scope["headers"]:
                if name == b"content-length":
                    # The server delivers no more than it declared: only the number is checked.
                    if int(value) > limit:
                        await refuse_body(new, scope, receive, send)
                        return
                    break
                if name == b"transfer-encoding":
                    limited = LimitedReceive(receive, limit)
                    await new(scope, limited, closing_if_exceeded(send, limited))
                    return
        await new(scope, receive, send)

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
