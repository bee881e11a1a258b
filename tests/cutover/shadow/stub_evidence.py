"""A legacy app and a port that differ on purpose, for the evidence, diffs and replay tests:
`/price/<n>` differs in one field (and for n >= 100 in a second), until `fix()` (or
CUTOVER_TEST_FIXED=1 in a subprocess); `/stamped` carries a timestamp on both sides (noise);
`/slow`'s candidate sleeps past the shadow timeout; `/boom`'s raises; `/secret` answers with
credentials. `gateway` is what `cutover replay --app` loads."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from flask import Flask

from cutover import Gateway
from cutover.control.modes import Mode, ModeState, Override, RouteMode

PRICE, STAMPED, SLOW, BOOM, SECRET = (
    "GET /price/{n}",
    "GET /stamped",
    "GET /slow",
    "GET /boom",
    "GET /secret",
)
ROUTES = (PRICE, STAMPED, SLOW, BOOM, SECRET)
_FIXED = {"on": False}
_SLOW = {"on": False}
SEEN_AUTHORIZATION: list[str | None] = []


def fix(on: bool = True) -> None:
    """Make the port answer /price as legacy does (the developer's fix)."""
    _FIXED["on"] = on


def slow_price(on: bool = True) -> None:
    """Make the port's /price sleep past any replay timeout."""
    _SLOW["on"] = on


def fixed() -> bool:
    return _FIXED["on"] or os.environ.get("CUTOVER_TEST_FIXED") == "1"


def make_legacy() -> Flask:
    app = Flask("evidence_legacy")

    @app.get("/price/<int:n>")
    def price(n: int) -> Any:
        return {"n": n, "price": 10, "name": "widget"}

    @app.get("/stamped")
    def stamped() -> Any:
        return {"ok": True, "at": time.time_ns()}

    @app.get("/slow")
    def slow() -> Any:
        return {"ok": True}

    @app.get("/boom")
    def boom() -> Any:
        return {"ok": True}

    @app.get("/secret")
    def secret() -> Any:
        answer = app.make_response({"password": "s3cret-legacy-pw", "token": "s3cret-legacy-tk"})
        answer.set_cookie("sid", "s3cret-legacy-cookie")
        return answer

    return app


def make_new() -> FastAPI:
    app = FastAPI()

    @app.get("/price/{n}")
    async def price(n: int, request: Request) -> dict[str, Any]:
        SEEN_AUTHORIZATION.append(request.headers.get("authorization"))
        if _SLOW["on"]:
            await asyncio.sleep(5)
        if fixed():
            return {"n": n, "price": 10, "name": "widget"}
        return {"n": n, "price": 11, "name": "widget" if n < 100 else "Widget"}

    @app.get("/stamped")
    async def stamped() -> dict[str, Any]:
        return {"ok": True, "at": time.time_ns()}

    @app.get("/slow")
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"ok": True}

    @app.get("/boom")
    async def boom() -> dict[str, Any]:
        raise RuntimeError("the candidate broke")

    @app.get("/secret")
    async def secret(response: Response) -> dict[str, Any]:
        response.set_cookie("sid", "s3cret-new-cookie")
        return {"password": "s3cret-new-pw", "token": "s3cret-new-tk"}

    return app


def shadowing(state_url: str | None, **options: Any) -> Gateway:
    """A gateway with every test route in shadow mode (set in memory: no follower runs)."""
    options.setdefault("shadow_timeout", 0.3)
    gateway = Gateway(make_legacy(), make_new(), state_url=state_url, access_log=False, **options)
    at = datetime.now(UTC)
    overrides = {
        route: Override(route, RouteMode(Mode.SHADOW), "t", "test", at, 1) for route in ROUTES
    }
    gateway.control.apply(ModeState(1, overrides))
    gateway.shadow.noise_rate = 1.0
    return gateway


gateway = shadowing(os.environ.get("CUTOVER_TEST_STATE_URL"))
