"""Database fixtures: on SQLite always, and on PostgreSQL when TEST_DATABASE_URL is set."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from shared_models import Base, create_engine_for, make_sessionmaker

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

DATABASE_PARAMS = [pytest.param("sqlite", id="sqlite")]
if POSTGRES_URL:
    DATABASE_PARAMS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))


def alembic_config(url: str) -> Config:
    """An Alembic config pointed at `url`, leaving the test run's logging alone."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["skip_logging"] = True
    return config


def reset_schema(url: str) -> None:
    """Drop whatever is there and migrate an empty database to head."""
    engine = create_engine_for(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    command.upgrade(alembic_config(url), "head")


@contextmanager
def private_postgres_database(server_url: str) -> Iterator[str]:
    """A database of this run's own on the PostgreSQL server, so concurrent runs never collide."""
    name = f"cutover_test_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session", params=DATABASE_PARAMS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database; one per backend for the whole run."""
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
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def truncate_all(engine: Engine) -> None:
    """Empty every table; works across every connection the servers under test hold."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # Integer primary keys without AUTOINCREMENT restart at 1 once a table is empty.
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """Each test starts from empty tables, whichever side wrote to them."""
    truncate_all(engine)
    yield engine
    truncate_all(engine)


@pytest.fixture
def db_session(clean_db: Engine) -> Iterator[Session]:
    """A session on the clean test database."""
    with make_sessionmaker(clean_db)() as session:
        yield session
