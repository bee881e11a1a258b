"""A legacy app with every converter, docstrings and blueprints, and a port of two of its routes,
for the OpenAPI document's tests."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from flask import Blueprint, Flask, request
from pydantic import BaseModel

from cutover import Gateway


def make_legacy() -> Flask:
    app = Flask("openapi_legacy")
    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @shop.get("/items/<int(min=1, max=999):item_id>")
    def get_item(item_id: int) -> Any:
        """One item of the shop.

        Answers 404 for an item nobody made.
        """
        if item_id == 999:
            return {"error": "no such item"}, 404
        return {"id": item_id, "name": "widget", "tags": ["a"], "price": 1.5}

    @shop.post("/items")
    def create_item() -> Any:
        """Make an item."""
        body = request.get_json(silent=True) or {}
        return {"id": 1, "name": body.get("name"), "api_key": "k-123"}, 201

    @shop.get("/prices/<float(signed=True):value>")
    def price(value: float) -> Any:
        return {"value": value}

    app.register_blueprint(shop)

    @app.get("/things/<uuid:thing_id>")
    def thing(thing_id: uuid.UUID) -> Any:
        return {"thing_id": str(thing_id)}

    @app.get("/files/<path:name>")
    def files(name: str) -> Any:
        return {"name": name}

    @app.get("/codes/<string(length=3):code>")
    def code(code: str) -> Any:
        return {"code": code}

    @app.get("/names/<string(minlength=2, maxlength=8):name>")
    def name(name: str) -> Any:
        return {"name": name}

    @app.get("/colours/<any(red, blue):colour>")
    def colour(colour: str) -> Any:
        return {"colour": colour}

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> Any:
        return {"id": user_id, "side": "legacy"}

    @app.delete("/users/<int:user_id>")
    def delete_user(user_id: int) -> Any:
        """Remove a user."""
        return "", 204

    @app.post("/login")
    def login() -> Any:
        return {"token": "s3cr3t-token", "user": {"password": "hunter2", "name": "ann"}}

    return app


class User(BaseModel):
    id: int
    side: str


def make_new() -> FastAPI:
    app = FastAPI(title="ported", version="1.2.3")
    users = APIRouter(tags=["users"])

    @users.get("/users/{uid}", response_model=User)
    async def get_user(uid: int) -> User:
        """A user, ported."""
        if uid == 0:
            raise HTTPException(404, "no such user")
        return User(id=uid, side="new")

    app.include_router(users)
    return app


def gateway(**options: Any) -> Gateway:
    return Gateway(make_legacy(), make_new(), **options)
