"""State stores to test the control plane on: SQLite always (a temporary file), PostgreSQL when
TEST_DATABASE_URL is set (a database of this run's own on that server, created and dropped here).

Only the toolkit is imported: this suite also runs where the reference app is not installed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from cutover.control.modes import LEGACY, NEW, Mode, RouteMode, RouteSides
from cutover.control.store import StateStore, metadata
from tests.postgres import private_postgres_database

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))

# The PostgreSQL-only tests keep the id "postgres" (CI counts the tests that ran there).
POSTGRES_ONLY = [
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set"),
        ],
    )
]

# The routes the tests publish, as a gateway would.
BOTH = "GET /items/{item_id}"
LISTED = "GET /items"
SHADOWED = "POST /items"
LEGACY_ONLY = "GET /reports"
NEW_ONLY = "GET /health/deep"
ROUTES = [
    RouteSides(BOTH, legacy=True, new=True, default=NEW),
    RouteSides(LISTED, legacy=True, new=True, default=NEW),
    RouteSides(SHADOWED, legacy=True, new=True, default=RouteMode(Mode.SHADOW)),
    RouteSides(LEGACY_ONLY, legacy=True, new=False, default=LEGACY),
    RouteSides(NEW_ONLY, legacy=False, new=True, default=NEW),
]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    assert POSTGRES_URL is not None
    with private_postgres_database(POSTGRES_URL, "cutover_control_test") as url:
        yield url


def _empty_postgres(request: pytest.FixtureRequest) -> str:
    """The private database without cutover's tables: each test starts from nothing."""
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def state_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A state store's URL with no tables yet, on each backend."""
    if request.param == "postgres":
        return _empty_postgres(request)
    return f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}"


@pytest.fixture(params=POSTGRES_ONLY)
def postgres_state_url(request: pytest.FixtureRequest) -> str:
    """As `state_url`, on PostgreSQL only (LISTEN/NOTIFY)."""
    return _empty_postgres(request)


def ready_store(url: str) -> StateStore:
    """A store at `url` with its tables and the test routes published."""
    store = StateStore(url)
    store.create_tables()
    store.publish_routes(ROUTES)
    return store


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    """A ready store on each backend."""
    store = ready_store(state_url)
    yield store
    store.dispose()
