"""Both sides of the cutover on one database: the legacy app alone, and the gateway with ports."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask

from cutover import Gateway
from legacy_flask import create_app as create_legacy_app
from legacy_flask.extensions import db
from new_fastapi import create_app as create_new_app
from shared_models import Settings
from tests.legacy.upstream import UpstreamServer

UPSTREAM_TIMEOUT = 0.3
SECRET_KEY = "parity-tests"


@pytest.fixture(scope="session")
def upstream() -> Iterator[UpstreamServer]:
    """The real upstream server /fetch-data calls, shared by both sides."""
    server = UpstreamServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _upstream_answers_json(upstream: UpstreamServer) -> Iterator[None]:
    upstream.set_behaviour("json")
    yield
    upstream.set_behaviour("json")


@pytest.fixture(scope="session")
def settings(database_url: str, upstream: UpstreamServer) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SECRET_KEY,
        upstream_url=upstream.url,
        upstream_timeout=UPSTREAM_TIMEOUT,
    )


@pytest.fixture(scope="session")
def flask_app(settings: Settings) -> Iterator[Flask]:
    app = create_legacy_app(
        {
            "SQLALCHEMY_DATABASE_URI": settings.database_url,
            "UPSTREAM_URL": settings.upstream_url,
            "UPSTREAM_TIMEOUT": settings.upstream_timeout,
            "SECRET_KEY": settings.secret_key,
            "TOKEN_TTL_SECONDS": settings.token_ttl_seconds,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def fastapi_app(settings: Settings) -> Iterator[FastAPI]:
    app = create_new_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def legacy_gateway(flask_app: Flask) -> Iterator[Gateway]:
    """The gateway before any port: everything is served by Flask."""
    gateway = Gateway(flask_app)
    yield gateway
    gateway.bridge.close()


@pytest.fixture(scope="session")
def new_gateway(flask_app: Flask, fastapi_app: FastAPI) -> Iterator[Gateway]:
    """The gateway with every port: ported routes are served by FastAPI."""
    gateway = Gateway(flask_app, fastapi_app)
    yield gateway
    gateway.bridge.close()


def _client(app: Gateway | FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://localhost")


@pytest.fixture
async def legacy(clean_db: object, legacy_gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(legacy_gateway) as client:
        yield client


@pytest.fixture(params=["gateway", "standalone"])
async def new(
    request: pytest.FixtureRequest,
    clean_db: object,
    new_gateway: Gateway,
    fastapi_app: FastAPI,
) -> AsyncIterator[httpx.AsyncClient]:
    """The ports behind the gateway, or the FastAPI app alone (its compat layer answers 404s,
    405s, HEAD and OPTIONS that the gateway would otherwise hand to Flask)."""
    app = new_gateway if request.param == "gateway" else fastapi_app
    async with _client(app) as client:
        yield client


@pytest.fixture
async def ported(clean_db: object, new_gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with every port, for sequences that alternate sides."""
    async with _client(new_gateway) as client:
        yield client
