"""The whole suite's shared fixtures: the anyio backend, and the reference app's database
fixtures (on SQLite always, and on PostgreSQL when TEST_DATABASE_URL is set).

They import tests.database (Alembic, shared_models) when a test first asks for them, not here:
this conftest is loaded for every test, and the toolkit's suite (tests/cutover) also runs where
only the toolkit is installed (`make test`'s .venv-oldest, on cutover's oldest dependencies)."""

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

DATABASE_PARAMS = [pytest.param("sqlite", id="sqlite")]
if POSTGRES_URL:
    DATABASE_PARAMS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))


@pytest.fixture
def anyio_backend() -> str:
    """The async tests (`pytest.mark.anyio`) run on asyncio, a fresh event loop per test."""
    return "asyncio"


@pytest.fixture(scope="session", params=DATABASE_PARAMS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database; one per backend for the whole run."""
    from tests.database import reset_schema
    from tests.postgres import private_postgres_database

    if request.param == "postgres":
        assert POSTGRES_URL is not None
        with private_postgres_database(POSTGRES_URL) as url:
            reset_schema(url)
            yield url
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        reset_schema(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The test's own engine, for arranging and checking rows directly."""
    from shared_models import create_engine_for

    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """Each test starts from empty tables, whichever side wrote to them."""
    from tests.database import truncate_all

    truncate_all(engine)
    yield engine
    truncate_all(engine)


@pytest.fixture
def db_session(clean_db: Engine) -> Iterator[Session]:
    """A session on the clean test database."""
    from shared_models import make_sessionmaker

    with make_sessionmaker(clean_db)() as session:
        yield session
