"""A small shop behind a gateway for the dashboard's browser test and screenshots: a Flask app,
its FastAPI ports (one differing from legacy in a field, to make a shadow diff), a SQLite state
store at $CUTOVER_DASHBOARD_STATE_URL, the admin token $CUTOVER_DASHBOARD_TOKEN and the
served-by header on: `uvicorn tests.dashboard.stub_gateway:gateway`."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import FastAPI
from flask import Flask

from cutover import Gateway, Mode, RouteMode

STATE_URL_VARIABLE = "CUTOVER_DASHBOARD_STATE_URL"
TOKEN_VARIABLE = "CUTOVER_DASHBOARD_TOKEN"
ITEMS = {1: ("lamp", 25), 2: ("desk", 180), 3: ("chair", 90)}


def make_legacy() -> Flask:
    app = Flask("shop_legacy")

    @app.get("/items")
    def items() -> Any:
        return {"items": [{"id": key, "name": name} for key, (name, _) in ITEMS.items()]}

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> Any:
        name, price = ITEMS.get(item_id, ("?", 0))
        return {"id": item_id, "name": name, "price": price, "served_at": time.time()}

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> Any:
        return {"id": user_id, "name": f"user {user_id}"}

    @app.get("/orders")
    def orders() -> Any:
        return {"orders": []}

    @app.post("/orders")
    def place_order() -> Any:
        return {"id": 7}, 201

    @app.get("/reports/weekly")
    def weekly() -> Any:
        return {"report": "weekly"}

    @app.get("/health")
    def health() -> Any:
        return {"ok": True}

    return app


def make_new() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    def items() -> Any:
        return {"items": [{"id": key, "name": name} for key, (name, _) in ITEMS.items()]}

    @app.get("/items/{item_id}")
    def item(item_id: int) -> Any:
        # The port's bug the shadow finds: the price in cents.
        name, price = ITEMS.get(item_id, ("?", 0))
        return {"id": item_id, "name": name, "price": price * 100, "served_at": time.time()}

    @app.get("/users/{user_id}")
    def user(user_id: int) -> Any:
        return {"id": user_id, "name": f"user {user_id}"}

    return app


gateway = Gateway(
    make_legacy(),
    make_new(),
    state_url=os.environ[STATE_URL_VARIABLE],
    state_poll_interval=0.2,
    publish_interval=0.5,
    admin_token=os.environ[TOKEN_VARIABLE],
    served_by_header=True,
    access_log=False,
    default_modes={"GET /users/{user_id}": RouteMode(Mode.CANARY, 20)},
)
