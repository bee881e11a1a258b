"""The state store's database underneath: an engine with bounded waits, driver errors in the
store's own words (StoreUnavailable, StateNotInitialised) and the upsert each dialect spells."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, insert, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

CONNECT_TIMEOUT_SECONDS = 3
SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
NO_VERSION_ROW = "the state store has no version row: run `cutover init-state`"


class StoreUnavailable(Exception):
    """The state store cannot be used right now: unreachable, or its tables are missing."""


class StateNotInitialised(StoreUnavailable):
    """The state store has no cutover tables (or no version row): `cutover init-state`."""


def store_engine(url: URL) -> Engine:
    """A small pool that notices dead connections; bounded waits on connect and on locks."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        sqlite_args: dict[str, Any] = {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        }
        if url.database not in (None, "", ":memory:") and "mode=memory" not in str(url):
            # A file is opened per use (cheap), so a replaced or restored file is seen at once.
            sqlite_args["poolclass"] = NullPool
        return create_engine(url, **sqlite_args)
    connect_args: dict[str, object] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=4,
        pool_timeout=10,
        pool_recycle=1800,
        connect_args=connect_args,
    )


@contextmanager
def translated() -> Iterator[None]:
    """Driver errors as StoreUnavailable (with the driver's first line), ModeRefused as is."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else repr(exc)
        if _missing_tables(exc):
            raise StateNotInitialised(
                f"the state tables are missing ({detail}): run `cutover init-state`"
            ) from exc
        raise StoreUnavailable(f"state store unavailable: {detail}") from exc
    except sa_exc.TimeoutError as exc:
        raise StoreUnavailable(f"state store unavailable: {exc}") from exc


def _missing_tables(exc: sa_exc.DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "cutover_" in message and ("no such table" in message or "does not exist" in message)


def upsert(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, key: str
) -> None:
    """Insert `rows`, updating those whose `key` exists (ON CONFLICT where the dialect has it)."""
    name = connection.dialect.name
    if name == "postgresql":
        pg = postgresql.insert(table)
        set_ = {column: pg.excluded[column] for column in rows[0] if column != key}
        connection.execute(pg.on_conflict_do_update(index_elements=[key], set_=set_), rows)
    elif name == "sqlite":
        lite = sqlite.insert(table)
        set_ = {column: lite.excluded[column] for column in rows[0] if column != key}
        connection.execute(lite.on_conflict_do_update(index_elements=[key], set_=set_), rows)
    else:
        column = table.c[key]
        for row in rows:
            changed = connection.execute(update(table).where(column == row[key]).values(**row))
            if changed.rowcount == 0:
                connection.execute(insert(table).values(**row))
