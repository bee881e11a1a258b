"""One place for engine options so both sides open the database the same way."""

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000


def engine_options(url: str, *, pool_size: int = 20, max_overflow: int = 10) -> dict[str, Any]:
    """Engine keyword arguments for `url`, shared by Flask-SQLAlchemy and the FastAPI side."""
    if make_url(url).get_backend_name() == "sqlite":
        # Both sides run handlers on worker threads; the connection pool hands out
        # one connection per thread, so SQLite's same-thread check must be off.
        return {
            "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        }
    return {"pool_pre_ping": True, "pool_size": pool_size, "max_overflow": max_overflow}


def install_sqlite_pragmas(engine: Engine) -> None:
    """WAL, busy timeout and foreign keys on every new SQLite connection."""
    if engine.dialect.name != "sqlite":
        return
    if event.contains(engine, "connect", _set_sqlite_pragmas):
        return
    event.listen(engine, "connect", _set_sqlite_pragmas)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine_for(url: str, **pool: int) -> Engine:
    """An engine with the shared options and SQLite pragmas installed."""
    engine = create_engine(url, **engine_options(url, **pool))
    install_sqlite_pragmas(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit, as request handlers expect."""
    return sessionmaker(engine, expire_on_commit=False)
