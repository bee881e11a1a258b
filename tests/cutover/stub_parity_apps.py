"""A small Flask app and its FastAPI port on one in-memory store, to test cutover.parity.

The port answers Flask's bytes (cutover.compat's LegacyJSONResponse) unless given `quirks`, each
one deliberate difference: `status`, `body`, `header`. Each side accepts only the tokens it
minted itself, as an app whose sides sign tokens differently would. `Store.log` records which
side served what, and when the store was reset.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from flask import Flask, jsonify, request

from cutover import Gateway
from cutover.compat import LegacyJSONResponse, flask_json_body


@dataclass
class Store:
    """What both sides read and write: items by id, minted tokens, and the log."""

    items: dict[int, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.items.clear()
        self.tokens.clear()
        self.log.append("reset")

    def create(self, name: Any) -> tuple[dict[str, Any], int]:
        if not isinstance(name, str) or not name:
            return {"error": "name is required"}, 400
        item_id = len(self.items) + 1
        self.items[item_id] = name
        return {"id": item_id, "name": name}, 201

    def mint(self, side: str) -> str:
        token = f"{side}-{len(self.tokens) + 1}"
        self.tokens.add(token)
        return token

    def knows(self, side: str, authorization: str | None) -> bool:
        token = (authorization or "").removeprefix("Bearer ")
        return token.startswith(f"{side}-") and token in self.tokens


def make_legacy(store: Store) -> Flask:
    app = Flask("stub_parity_legacy")

    @app.post("/items")
    def create_item() -> Any:
        store.log.append("legacy POST /items")
        body = request.get_json(silent=True) or {}
        answer, status = store.create(body.get("name") if isinstance(body, dict) else None)
        response = jsonify(answer)
        if status == 201:
            response.headers["Location"] = f"/items/{answer['id']}"
        return response, status

    @app.get("/items/<int:item_id>")
    def read_item(item_id: int) -> Any:
        store.log.append("legacy GET /items")
        if item_id not in store.items:
            return jsonify(error="not found"), 404
        response = jsonify(id=item_id, name=store.items[item_id])
        response.headers["Cache-Control"] = "max-age=60"
        return response

    @app.post("/tokens")
    def mint() -> Any:
        return jsonify(token=store.mint("legacy"))

    @app.get("/me")
    def me() -> Any:
        if not store.knows("legacy", request.headers.get("Authorization")):
            return jsonify(error="unauthorised"), 401
        return jsonify(me=True)

    @app.get("/reports")
    def reports() -> Any:
        return jsonify(reports=[])

    return app


def make_new(store: Store, quirks: Collection[str] = ()) -> FastAPI:
    app = FastAPI()

    @app.post("/items")
    async def create_item(request: Request) -> LegacyJSONResponse:
        store.log.append("new POST /items")
        body = await flask_json_body(request)
        answer, status = store.create(body.get("name") if isinstance(body, dict) else None)
        if status == 201 and "status" in quirks:
            status = 200
        headers = {"Location": f"/items/{answer['id']}"} if "id" in answer else None
        return LegacyJSONResponse(answer, status_code=status, headers=headers)

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int) -> LegacyJSONResponse:
        store.log.append("new GET /items")
        if item_id not in store.items:
            return LegacyJSONResponse({"error": "not found"}, status_code=404)
        name = store.items[item_id]
        headers = {} if "header" in quirks else {"Cache-Control": "max-age=60"}
        body = {"id": item_id, "name": name.upper() if "body" in quirks else name}
        return LegacyJSONResponse(body, headers=headers)

    @app.post("/tokens")
    async def mint() -> LegacyJSONResponse:
        return LegacyJSONResponse({"token": store.mint("new")})

    @app.get("/me")
    async def me(request: Request) -> LegacyJSONResponse:
        if not store.knows("new", request.headers.get("authorization")):
            return LegacyJSONResponse({"error": "unauthorised"}, status_code=401)
        return LegacyJSONResponse({"me": True})

    return app


def make_gateway(store: Store, quirks: Collection[str] = ()) -> Gateway:
    return Gateway(make_legacy(store), make_new(store, quirks), access_log=False)
