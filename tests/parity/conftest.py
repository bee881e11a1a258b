"""Both sides of the cutover on one database: the legacy app alone, and the gateway with ports.

`gateway` and `reset` are what a parity test needs (`cutover.parity.assert_parity(gateway,
steps, reset=reset)`); `cutover scaffold` drafts tests that ask for them by these names.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask
from sqlalchemy import Engine

from cutover import Gateway
from legacy_flask import create_app as create_legacy_app
from legacy_flask.extensions import db
from new_fastapi import create_app as create_new_app
from shared_models import Settings
from tests.database import truncate_all
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
def gateway(flask_app: Flask, fastapi_app: FastAPI) -> Iterator[Gateway]:
    """The gateway with the legacy Flask app and every port (served by FastAPI unless a parity
    run pins it to one side), on the test database."""
    gateway = Gateway(flask_app, fastapi_app)
    yield gateway
    gateway.bridge.close()


@pytest.fixture
def reset(clean_db: Engine) -> Callable[[], None]:
    """Empties every table of the test database: a parity run's fresh state."""
    return partial(truncate_all, clean_db)


def _client(app: Gateway | FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://localhost")


@pytest.fixture
async def legacy(clean_db: object, legacy_gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(legacy_gateway) as client:
        yield client


@pytest.fixture
async def ported(clean_db: object, gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with every port, for sequences that alternate sides."""
    async with _client(gateway) as client:
        yield client
