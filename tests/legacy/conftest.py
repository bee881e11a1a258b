"""Legacy API fixtures: tests speak HTTP only, so the suite also runs through the gateway."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from legacy_flask import create_app
from legacy_flask.extensions import db
from tests.legacy.helpers import Account, create_account
from tests.legacy.upstream import UpstreamServer
from tests.servers import serve_uvicorn

# Long enough for a loaded 2-core CI machine (0.3 s once timed out a healthy upstream through
# the gateway), short enough for the "slow" upstream tests, which wait it out.
UPSTREAM_TIMEOUT = 2.0


@pytest.fixture(scope="session")
def upstream() -> Iterator[UpstreamServer]:
    """The real upstream server /fetch-data calls; tests switch its behaviour."""
    server = UpstreamServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _upstream_answers_json(upstream: UpstreamServer) -> Iterator[None]:
    """Whatever a test switched the upstream to, the next one starts from plain JSON."""
    upstream.set_behaviour("json")
    upstream.hits.clear()
    yield
    upstream.set_behaviour("json")


@pytest.fixture(scope="session")
def legacy_app(database_url: str, upstream: UpstreamServer) -> Iterator[Flask]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPSTREAM_URL": upstream.url,
            "UPSTREAM_TIMEOUT": UPSTREAM_TIMEOUT,
            "SECRET_KEY": "legacy-tests",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session", params=["direct", "gateway", "gateway-out-of-process"])
def api_target(
    request: pytest.FixtureRequest, legacy_app: Flask, database_url: str, upstream: UpstreamServer
) -> Iterator[dict[str, Any]]:
    """Keyword arguments for an httpx.Client reaching the API: Flask itself, or the real gateway
    (with the legacy app in its process, or in a worker process of its own)."""
    if request.param == "direct":
        yield {"transport": httpx.WSGITransport(app=legacy_app), "base_url": "http://localhost"}
        return
    env = {
        "DATABASE_URL": database_url,
        "UPSTREAM_URL": upstream.url,
        "UPSTREAM_TIMEOUT": str(UPSTREAM_TIMEOUT),
        "SECRET_KEY": legacy_app.config["SECRET_KEY"],
    }
    if request.param == "gateway-out-of-process":
        env["CUTOVER_LEGACY_PROCESSES"] = "1"
    with serve_uvicorn("gateway:app", env=env) as server:
        yield {"base_url": server.url}


@pytest.fixture
def client(clean_db: object, api_target: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(**api_target) as http:
        yield http


@pytest.fixture
def alice(db_session: Session) -> Account:
    return create_account(db_session, "alice")


@pytest.fixture
def bob(db_session: Session) -> Account:
    return create_account(db_session, "bob")
