"""Engine options both sides rely on."""

from sqlalchemy import Engine, text

from shared_models.database import engine_options


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_postgres_options_set_pool_explicitly() -> None:
    options = engine_options("postgresql+psycopg://u@h/db", pool_size=7, max_overflow=3)
    assert options == {
        "pool_pre_ping": True,
        "pool_size": 7,
        "max_overflow": 3,
        "connect_args": {"connect_timeout": 3},
    }
