"""The reference app's test database: migrated with Alembic to shared_models' schema, emptied
between tests. Used by the fixtures in tests/conftest.py and the reference-app tests, never by the
toolkit's suite (tests/cutover), which runs where the reference app is not installed."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from shared_models import Base, create_engine_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
