"""A small Flask app, its FastAPI ports and a plain WSGI app, to test the gateway's routing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request, WebSocket
from fastapi import Response as FastAPIResponse
from flask import Flask
from flask import Response as FlaskResponse

from cutover import Gateway

REPORT_BODY = b'{"report": "weekly"}'
LIFESPAN_EVENTS: list[str] = []


def make_legacy(*, before_port: bool = False, automatic_options: bool = True) -> Flask:
    """The legacy app; `before_port=True` still has the routes whose code the port deleted."""
    app = Flask("stub_legacy")
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = automatic_options

    @app.get("/items/<int:item_id>")
    def legacy_item(item_id: int) -> Any:
        return {"side": "legacy", "item_id": item_id}

    @app.get("/files/<path:name>")
    def legacy_file(name: str) -> Any:
        return {"side": "legacy", "name": name}

    @app.get("/users/<name>")
    def legacy_user(name: str) -> Any:
        return {"side": "legacy", "name": name}

    @app.get("/prices/<float:value>")
    def legacy_price(value: float) -> Any:
        return {"side": "legacy", "value": value}

    @app.get("/things/<uuid:thing_id>")
    def legacy_thing(thing_id: uuid.UUID) -> Any:
        return {"side": "legacy", "thing_id": str(thing_id)}

    @app.get("/orders/<order_id>")
    def legacy_order(order_id: str) -> Any:
        return {"side": "legacy", "order_id": order_id}

    @app.route("/split", methods=["GET", "POST"])
    def legacy_split() -> Any:
        return {"side": "legacy"}

    @app.get("/tickets")
    def legacy_tickets() -> Any:
        return {"side": "legacy"}

    @app.get("/legacy-dir/")
    def legacy_dir() -> Any:
        return {"side": "legacy"}

    @app.get("/docs")
    def legacy_docs() -> Any:
        return {"side": "legacy", "page": "docs"}

    @app.get("/openapi.json")
    def legacy_openapi() -> Any:
        return {"side": "legacy", "page": "openapi"}

    if before_port:

        @app.get("/reports/")
        def legacy_reports() -> FlaskResponse:
            return FlaskResponse(REPORT_BODY, mimetype="application/json")

        @app.post("/tickets")
        def legacy_create_ticket() -> Any:
            return {"side": "legacy"}, 201

    return app


def make_new(lifespan_state: dict[str, Any] | None = None) -> FastAPI:
    """The FastAPI app holding the ported routes (and one endpoint Flask never had)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        LIFESPAN_EVENTS.append("startup")
        yield dict(lifespan_state or {})
        LIFESPAN_EVENTS.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/items/{item_id}")
    async def new_item(item_id: int) -> dict[str, Any]:
        return {"side": "new", "item_id": item_id}

    @app.get("/files/{name:path}")
    async def new_file(name: str) -> dict[str, Any]:
        return {"side": "new", "name": name}

    @app.get("/users/{name}")
    async def new_user(name: str) -> dict[str, Any]:
        return {"side": "new", "name": name}

    @app.get("/prices/{value}")
    async def new_price(value: float) -> dict[str, Any]:
        return {"side": "new", "value": value}

    @app.get("/things/{thing_id}")
    async def new_thing(thing_id: uuid.UUID) -> dict[str, Any]:
        return {"side": "new", "thing_id": str(thing_id)}

    @app.get("/orders/{order_id}")
    async def new_order(order_id: int) -> dict[str, Any]:
        return {"side": "new", "order_id": order_id}

    @app.get("/split")
    async def new_split() -> dict[str, Any]:
        return {"side": "new"}

    @app.get("/reports/")
    async def new_reports() -> FastAPIResponse:
        return FastAPIResponse(REPORT_BODY, media_type="application/json")

    @app.post("/tickets", status_code=201)
    async def new_create_ticket() -> dict[str, Any]:
        return {"side": "new"}

    @app.websocket("/ws")
    async def new_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("new socket")
        await websocket.close()

    @app.get("/health")
    async def new_health(request: Request) -> dict[str, Any]:
        return {"side": "new", "state": dict(request.state._state)}

    return app


def plain_legacy(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A WSGI callable without a url_map: the gateway knows nothing of its routes."""
    body = f"plain {environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


async def call(app: Any, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to an ASGI app, in process (no lifespan)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, url, **kwargs)


async def run_asgi(
    app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Drive an ASGI app with `incoming` messages; returns what it sent."""
    sent: list[dict[str, Any]] = []
    pending = list(incoming)

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def http_scope(method: str, path: str, **extra: Any) -> dict[str, Any]:
    """A minimal HTTP scope as a server would build it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


def call_wsgi(app: Any, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request straight to a WSGI app, the reference the gateway must match."""
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        return client.request(method, url, **kwargs)


# For the CLI and real-server tests (`tests.cutover.stub_routing_apps:gateway`).
gateway = Gateway(make_legacy(), make_new({"lifespan": "ran"}))
not_a_gateway = make_new()
