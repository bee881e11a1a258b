"""Errors answer in the legacy JSON shape, framework errors with Werkzeug's own pages."""

from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from flask import Flask, jsonify
from pydantic import BaseModel

from cutover.compat import ApiError, install_legacy_errors
from tests.cutover.compat.client import call

pytestmark = pytest.mark.anyio


class Thing(BaseModel):
    name: str


def _errors_app(**options: Any) -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    install_legacy_errors(app, **options)

    @app.get("/things/{thing_id:int}")
    async def get_thing(thing_id: int) -> dict[str, int]:
        if thing_id == 0:
            raise ApiError(409, "Conflict", headers={"X-Why": "zero"}, current={"id": 0})
        return {"id": thing_id}

    @app.post("/things")
    async def create_thing(thing: Annotated[Thing, Body()]) -> dict[str, str]:
        return {"name": thing.name}

    @app.delete("/things")
    async def boom() -> None:
        raise RuntimeError("unhandled")

    return app


@pytest.fixture(scope="module")
def flask_reference() -> Flask:
    app = Flask("errors_reference")

    @app.get("/things/<int:thing_id>")
    def get_thing(thing_id: int) -> Any:
        return jsonify(id=thing_id)

    @app.delete("/things")
    def boom() -> Any:
        raise RuntimeError("unhandled")

    return app


async def test_api_error_is_the_legacy_json_shape() -> None:
    response = await call(_errors_app(), "GET", "/things/0")
    assert response.status_code == 409
    assert response.content == b'{"current":{"id":0},"error":"Conflict"}\n'
    assert response.headers["x-why"] == "zero"


async def test_error_body_is_the_apps_choice() -> None:
    app = _errors_app(error_body=lambda message: {"detail": {"msg": message}})
    assert (await call(app, "GET", "/things/0")).json() == {
        "current": {"id": 0},
        "detail": {"msg": "Conflict"},
    }


async def test_validation_errors_get_the_legacy_status_and_message() -> None:
    app = _errors_app(validation_message="Invalid input")
    response = await call(app, "POST", "/things", json={"name": 5})
    assert response.status_code == 400
    assert response.content == b'{"error":"Invalid input"}\n'


async def test_validation_message_callable_sees_route_and_errors() -> None:
    seen: list[tuple[str, list[str]]] = []

    def message(request: Request, exc: RequestValidationError) -> str:
        route_name = request.scope["route"].name
        seen.append((route_name, [error["type"] for error in exc.errors()]))
        return f"bad {route_name}"

    app = _errors_app(validation_message=message, validation_status=422)
    headers = {"Content-Type": "application/json"}
    response = await call(app, "POST", "/things", content=b"{", headers=headers)
    assert response.status_code == 422
    assert response.json() == {"error": "bad create_thing"}
    assert seen == [("create_thing", ["json_invalid"])]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("GET", "/things/x"), ("GET", "/things/1/"), ("PUT", "/things/1")],
)
async def test_framework_errors_are_werkzeugs_pages(
    flask_reference: Flask, method: str, path: str
) -> None:
    expected = flask_reference.test_client().open(path, method=method)
    response = await call(_errors_app(), method, path)
    assert response.status_code == expected.status_code
    assert response.content == expected.get_data()
    assert response.headers["content-type"] == expected.headers["Content-Type"]
    if expected.status_code == 405:
        allowed = {m.strip() for m in expected.headers["Allow"].split(",")}
        assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


async def test_unhandled_exception_is_flasks_500_page(flask_reference: Flask) -> None:
    expected = flask_reference.test_client().delete("/things")
    response = await call(_errors_app(), "DELETE", "/things")
    assert response.status_code == expected.status_code == 500
    assert response.content == expected.get_data()
    assert response.headers["content-type"] == expected.headers["Content-Type"]
