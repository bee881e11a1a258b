"""Native requests go straight to the FastAPI route the gateway already found: FastAPI's own
middleware, exception handlers and route code run as always, but its router no longer matches
every earlier route again, one by one, on every request.

The gateway finds, once per (method, path) it caches, the first top-level entry of the app's
router that fully matches, exactly as Starlette's loop would; the request then carries that hint
in its scope and the router (its innermost ASGI app swapped for `_Shortcut`) starts its usual loop
at that entry. A hint is taken only for the method and path it was found for, so a middleware
that rewrites either gets the full scan."""

from __future__ import annotations

import copy
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from starlette.routing import Host, Match, Router
from starlette.types import Receive, Scope, Send

from cutover.asgi import route_path

if TYPE_CHECKING:
    from fastapi import FastAPI

MIN_SKIPPED = 2  # earlier routes a hint must skip to be worth its hop (~1 match each)
HINT = "cutover.native_route"
"""Scope key: (method, route path, the router to start from), set by the gateway."""


class NativeDispatch:
    """The FastAPI app's router, taught to start at the entry the gateway located.

    Off (every request scanned as usual) when the router has middleware of its own wrapped around
    its loop or an entry whose match depends on more than method and path (a `Host`).
    """

    def __init__(self, app: FastAPI) -> None:
        router = app.router
        self._router = router
        self._views: dict[int, Router] = {}
        self.enabled = router.middleware_stack == router.app and not any(
            isinstance(route, Host) for route in router.routes
        )
        if self.enabled:
            router.middleware_stack = _Shortcut(router)

    def locate(self, method: str, path: str) -> tuple[str, str, Router] | None:
        """The hint for (method, path): the router starting at the first entry matching it in
        full, or None (no entry does, or the shortcut is off)."""
        if not self.enabled:
            return None
        scope = _probe_scope(method, path)
        for index, route in enumerate(self._router.routes):
            match, _ = route.matches(scope)
            if match is Match.FULL:
                # Near the top the router's own scan costs less than the shortcut's hop.
                return (method, path, self._view(index)) if index >= MIN_SKIPPED else None
        return None

    def _view(self, index: int) -> Router:
        view = self._views.get(index)
        if view is None:
            # A shallow copy sharing everything but the list it loops over.
            view = copy.copy(self._router)
            view.routes = self._router.routes[index:]
            self._views[index] = view
        return view


class _Shortcut:
    """The router's innermost app: a hinted request starts at its entry, any other is routed as
    the router always does (lifespan, websockets, unhinted or rewritten requests)."""

    __slots__ = ("_router", "_scan")

    def __init__(self, router: Router) -> None:
        self._router = router
        self._scan = router.app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        # A plain function handing back the chosen app's awaitable: no coroutine of its own.
        hint = scope.pop(HINT, None)
        if hint is not None and hint[0] == scope.get("method") and hint[1] == route_path(scope):
            if "router" not in scope:
                scope["router"] = self._router  # url_for and friends see the whole app
            view: Router = hint[2]
            return view.app(scope, receive, send)
        return self._scan(scope, receive, send)


def _probe_scope(method: str, path: str) -> dict[str, Any]:
    """The parts of a request scope that path routing reads."""
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode("utf-8"),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": None,
    }
