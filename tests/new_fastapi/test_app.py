"""The FastAPI app's own wiring: engine and client lifecycle, docs, and failures as Flask's."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask

from legacy_flask import create_app as create_legacy_app
from legacy_flask.extensions import db
from new_fastapi import create_app
from shared_models import Settings

pytestmark = pytest.mark.anyio


async def get(app: object, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.get(path)


@pytest.fixture
def tableless_url(tmp_path: Path) -> str:
    """A database without the schema, so every query fails."""
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def broken_legacy(tableless_url: str) -> Iterator[Flask]:
    app = create_legacy_app({"SQLALCHEMY_DATABASE_URI": tableless_url})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def broken_new(tableless_url: str) -> Iterator[FastAPI]:
    app = create_app(Settings(database_url=tableless_url))
    yield app
    app.state.engine.dispose()


async def test_unhandled_error_is_flasks_500_page(
    broken_legacy: Flask, broken_new: FastAPI
) -> None:
    expected = broken_legacy.test_client().get("/api/users/1")
    response = await get(broken_new, "/api/users/1")
    assert expected.status_code == response.status_code == 500
    assert response.content == expected.get_data()
    assert response.headers["content-type"] == expected.headers["Content-Type"]


async def test_serves_without_lifespan_and_lifespan_releases_resources(
    database_url: str, clean_db: object
) -> None:
    app = create_app(Settings(database_url=database_url))
    assert (await get(app, "/api/stats/")).json() == {"items": 0, "posts": 0, "users": 0}
    async with app.router.lifespan_context(app):
        assert (await get(app, "/api/hello")).content == b'{"message":"Hello, World!"}\n'
    assert app.state.http_client.is_closed
    assert app.state.engine.pool.checkedout() == 0


async def test_openapi_documents_the_ports() -> None:
    app = create_app(Settings(database_url="sqlite://"))
    schema = (await get(app, "/openapi.json")).json()
    assert {"/api/users", "/api/notes/{note_id}", "/items", "/fetch-data"} <= set(schema["paths"])
    user_create = schema["components"]["schemas"]["UserResponse"]
    assert user_create["required"] == ["age", "created_at", "email", "id", "username"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    body = schema["paths"]["/api/users"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["email"]["format"] == "email"
    app.state.engine.dispose()
