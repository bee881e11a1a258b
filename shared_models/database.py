"""One place for engine options so both sides open the database the same way."""

from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000
# libpq waits for a server that drops packets as long as the kernel does (minutes), holding the
# request's thread; a URL's own `?connect_timeout=` wins over this.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 3
LIBPQ_DRIVERS = frozenset({"psycopg", "psycopg2"})

# What both sides answer when the database cannot be reached: 503, and when to try again.
UNAVAILABLE_MESSAGE = "Database unavailable"
UNAVAILABLE_RETRY_AFTER_SECONDS = 1
# The classes `is_database_unavailable` may accept, for registering error handlers on.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
)
# SQLITE_BUSY and SQLITE_LOCKED (primary codes): another writer holds the file, not an outage.
_SQLITE_LOCK_CODES = frozenset({5, 6})


def engine_options(url: str, *, pool_size: int = 20, max_overflow: int = 12) -> dict[str, Any]:
    """Engine keyword arguments for `url`, shared by Flask-SQLAlchemy and the FastAPI side."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Both sides run handlers on worker threads; the connection pool hands out
        # one connection per thread, so SQLite's same-thread check must be off.
        sqlite: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        }
        if parsed.database not in (None, "", ":memory:"):
            # A file database is pooled like a server's, sized the same (README: sizing).
            sqlite.update(pool_size=pool_size, max_overflow=max_overflow)
        return sqlite
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": pool_size,
        "max_overflow": max_overflow,
    }
    if parsed.get_driver_name() in LIBPQ_DRIVERS and "connect_timeout" not in parsed.query:
        options["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    return options


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


def install_connect_failure_detection(engine: Engine) -> None:
    """Mark a connection that could not be opened as a disconnect, which SQLAlchemy does not."""
    if event.contains(engine, "handle_error", _mark_connect_failure):
        return
    event.listen(engine, "handle_error", _mark_connect_failure)


def _mark_connect_failure(context: ExceptionContext) -> None:
    # No Connection yet (and not the pre-ping's own check): the pool could not open one, e.g.
    # "Connection refused", a timeout, or "the database system is shutting down".
    if context.connection is not None or context.is_pre_ping:
        return
    error = context.original_exception
    dbapi = context.dialect.loaded_dbapi
    if isinstance(error, dbapi.OperationalError | dbapi.InterfaceError) and not _is_sqlite_lock(
        error
    ):
        context.is_disconnect = True


def _is_sqlite_lock(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _SQLITE_LOCK_CODES


def install_engine_hooks(engine: Engine) -> None:
    """Every hook the shared engines need, for an engine built elsewhere (Flask-SQLAlchemy)."""
    install_sqlite_pragmas(engine)
    install_connect_failure_detection(engine)


def is_database_unavailable(error: BaseException) -> bool:
    """True when no working connection could be had (refused, lost, pool timed out), so the
    request may succeed if retried; a statement the database rejected is False."""
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


def unavailable_reason(error: BaseException) -> str:
    """One log line naming the driver's error, without the SQL statement or its parameters."""
    cause = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    first_line = str(cause).partition("\n")[0]
    return f"{type(cause).__name__}: {first_line}"


def check_database(engine: Engine) -> None:
    """Raise unless a pooled connection answers `SELECT 1`; blocking, for a readiness probe."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def create_engine_for(url: str, **pool: int) -> Engine:
    """An engine with the shared options and hooks installed."""
    engine = create_engine(url, **engine_options(url, **pool))
    install_engine_hooks(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit, as request handlers expect."""
    return sessionmaker(engine, expire_on_commit=False)
