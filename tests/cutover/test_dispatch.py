"""Native dispatch straight to the located route: FastAPI's semantics kept (dependencies,
middleware, exception handlers, `scope["route"]`, path params, url_for), the earlier routes no
longer matched again on every request, and the full scan kept wherever a hint could mislead."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from flask import Flask
from starlette.routing import Host, Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from cutover import Gateway
from cutover.dispatch import NativeDispatch

pytestmark = pytest.mark.anyio

MATCHED: Counter[str] = Counter()


class CountingRoute(APIRoute):
    """An APIRoute that counts how often the router asks it whether it matches."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        MATCHED[self.path] += 1
        return super().matches(scope)


class Teapot(Exception):
    pass


def prefix() -> str:
    return "dep"


def make_new(count: int = 50) -> FastAPI:
    app = FastAPI()
    app.router.route_class = CountingRoute

    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot) -> JSONResponse:
        return JSONResponse({"error": "teapot"}, status_code=418)

    @app.middleware("http")
    async def stamp(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-middleware"] = "ran"
        return response

    for n in range(count - 1):
        app.add_api_route(f"/r{n}/{{item_id}}", _echo(n), methods=["GET"])

    @app.get("/last/{item_id}", name="last")
    async def last(
        item_id: int, request: Request, marker: Annotated[str, Depends(prefix)]
    ) -> dict[str, Any]:
        if item_id == 418:
            raise Teapot()
        if item_id == 404:
            raise HTTPException(404, "no such item")
        route = request.scope["route"]
        return {
            "item_id": item_id,
            "marker": marker,
            "route": route.path,
            "url": str(request.url_for("r0", item_id=7)),
        }

    return app


def _echo(n: int) -> Any:
    async def endpoint(item_id: int) -> dict[str, int]:
        return {"n": n, "item_id": item_id}

    endpoint.__name__ = f"r{n}"
    return endpoint


def make_legacy() -> Flask:
    app = Flask("dispatch_legacy")

    @app.get("/legacy")
    def legacy() -> Any:
        return {"side": "legacy"}

    return app


def client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_the_last_of_fifty_routes_is_served_without_matching_the_others_again() -> None:
    gateway = Gateway(make_legacy(), make_new(), access_log=False)
    assert gateway.native is not None and gateway.native.enabled
    async with client(gateway) as http:
        first = await http.get("/last/5")  # the decision is made and cached here
        MATCHED.clear()
        answers = [await http.get("/last/5") for _ in range(3)]
    assert first.json() == answers[0].json()
    assert answers[0].json() == {
        "item_id": 5,
        "marker": "dep",
        "route": "/last/{item_id}",
        "url": "http://testserver/r0/7",
    }
    assert answers[0].headers["x-middleware"] == "ran"
    assert dict(MATCHED) == {"/last/{item_id}": 3}


async def test_the_same_app_alone_matches_every_earlier_route() -> None:
    """The control: what the shortcut saves (49 matches per request here)."""
    app = make_new()
    async with client(app) as http:
        MATCHED.clear()
        assert (await http.get("/last/5")).status_code == 200
    assert MATCHED["/r0/{item_id}"] == 1
    assert sum(MATCHED.values()) == 50


async def test_exception_handlers_validation_and_head_work_through_the_shortcut() -> None:
    gateway = Gateway(make_legacy(), make_new(), access_log=False)
    async with client(gateway) as http:
        teapot = await http.get("/last/418")
        missing = await http.get("/last/404")
        invalid = await http.get("/last/abc")
        head = await http.head("/last/5")
        legacy = await http.get("/legacy")
    assert (teapot.status_code, teapot.json()) == (418, {"error": "teapot"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "no such item"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["path", "item_id"]
    assert head.status_code == 200 and head.content == b""
    assert head.headers["x-middleware"] == "ran"
    assert legacy.json() == {"side": "legacy"}


async def test_a_middleware_that_rewrites_the_path_gets_the_full_scan() -> None:
    new = make_new(3)

    class Rewrite:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == "/last/1":
                scope = {**scope, "path": "/r0/1", "raw_path": b"/r0/1"}
            await self.app(scope, receive, send)

    new.add_middleware(Rewrite)
    gateway = Gateway(make_legacy(), new, access_log=False)
    async with client(gateway) as http:
        answer = await http.get("/last/1")
    assert answer.json() == {"n": 0, "item_id": 1}


def test_a_host_route_turns_the_shortcut_off_and_routing_stays_the_apps() -> None:
    new = make_new(2)
    new.router.routes.insert(0, Host("api.example.com", Router()))
    dispatch = NativeDispatch(new)
    assert not dispatch.enabled
    assert dispatch.locate("GET", "/last/1") is None


def test_a_path_no_entry_matches_in_full_gets_no_hint() -> None:
    dispatch = NativeDispatch(make_new(3))
    assert dispatch.locate("POST", "/last/1") is None  # only a partial (405) match
    assert dispatch.locate("GET", "/openapi.json") is None  # first: the scan costs less
    hint = dispatch.locate("GET", "/last/1")
    assert hint is not None
    method, path, view = hint
    assert (method, path) == ("GET", "/last/1")
    assert getattr(view.routes[0], "path", None) == "/last/{item_id}"
