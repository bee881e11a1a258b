"""The control plane's one truth: cutover's own tables in the database the apps share.

A single version row is the truth; every switch bumps it, writes the override and an audit row in
one transaction, and on PostgreSQL rings `pg_notify('cutover_state', '<version>')` as a doorbell.
Gateways publish the routes they know and report the version they serve."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, make_url, select, true
from sqlalchemy.engine import URL

from cutover.control.engine import (
    CONNECT_TIMEOUT_SECONDS,
    NO_VERSION_ROW,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    StateNotInitialised,
    StoreUnavailable,
    store_engine,
    translated,
    upsert,
)
from cutover.control.modes import (
    Change,
    Mode,
    ModeRefused,
    ModeState,
    ProcessReport,
    RouteMode,
    RouteSides,
)
from cutover.control.rows import (
    change_from,
    override_from,
    process_row,
    report_from,
    route_row,
    sides_from,
)
from cutover.control.switches import NOTIFY_CHANNEL, switch_every_route, switch_route, who
from cutover.control.tables import (
    VERSION_ROW,
    UTCDateTime,
    history_table,
    metadata,
    overrides_table,
    processes_table,
    routes_table,
    state_table,
)

# What this module has always offered, wherever it is defined now.
__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "NOTIFY_CHANNEL",
    "PROCESS_RETENTION",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "StateNotInitialised",
    "StateStore",
    "StoreUnavailable",
    "UTCDateTime",
    "history_table",
    "metadata",
    "now",
    "overrides_table",
    "processes_table",
    "routes_table",
    "state_table",
]

# Process rows nobody refreshed for this long are deleted by the next report.
PROCESS_RETENTION = timedelta(days=1)
# Any 64-bit key of cutover's own: serialises concurrent `create_tables` on PostgreSQL.
_CREATE_LOCK_KEY = 0x637574_6F766572


def now() -> datetime:
    """The current time, timezone-aware UTC, as every row records it."""
    return datetime.now(UTC)


class StateStore:
    """cutover's tables at `url` (any SQLAlchemy URL; SQLite and PostgreSQL are tested).

    Thread-safe: the follower's thread, the admin API's worker threads and the CLI share one.
    """

    def __init__(self, url: str | URL) -> None:
        self.url = make_url(url)
        self._engine = store_engine(self.url)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """`postgresql`, `sqlite`, ..."""
        return self._engine.dialect.name

    @property
    def driver(self) -> str:
        """The DBAPI driver: `psycopg`, `psycopg2`, `pysqlite`, ..."""
        return self._engine.dialect.driver

    def display_url(self) -> str:
        """The URL with its password hidden, for messages."""
        return self.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    # -- schema -----------------------------------------------------------------------------

    def create_tables(self) -> None:
        """Create the tables and the version row (at 0) when missing; safe to run concurrently."""
        with translated(), self._engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(_CREATE_LOCK_KEY)))
            elif self.dialect == "sqlite":
                # Take the write lock first, so two processes never both find the tables missing.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            metadata.create_all(connection, checkfirst=True)
            exists = connection.execute(
                select(state_table.c.id).where(state_table.c.id == VERSION_ROW)
            ).first()
            if exists is None:
                connection.execute(
                    insert(state_table).values(id=VERSION_ROW, version=0, updated_at=now())
                )

    # -- the truth ----------------------------------------------------------------------------

    def read_version(self) -> int:
        """The current state version: one SELECT of one row."""
        with translated(), self._engine.connect() as connection:
            version = connection.execute(
                select(state_table.c.version).where(state_table.c.id == VERSION_ROW)
            ).scalar_one_or_none()
        if version is None:
            raise StateNotInitialised(NO_VERSION_ROW)
        return int(version)

    def read_state(self) -> ModeState:
        """The version and every override, read by one statement (so one snapshot)."""
        o = overrides_table.c
        query = (
            select(state_table.c.version, o.route, o.mode, o.percent, o.actor, o.reason, o.at)
            .add_columns(o.version.label("override_version"))
            .select_from(state_table.outerjoin(overrides_table, true()))
            .where(state_table.c.id == VERSION_ROW)
            .order_by(o.route)
        )
        with translated(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            raise StateNotInitialised(NO_VERSION_ROW)
        overrides = {
            row.route: override_from(row, row.override_version)
            for row in rows
            if row.route is not None
        }
        return ModeState(version=int(rows[0].version), overrides=overrides)

    # -- routes -------------------------------------------------------------------------------

    def publish_routes(self, routes: Sequence[RouteSides]) -> None:
        """Record the routes a gateway knows (insert or update; the version does not move)."""
        at = now()
        ordered = sorted(routes, key=lambda sides: sides.route)  # one lock order
        rows = [route_row(sides, at) for sides in ordered]
        if not rows:
            return
        with translated(), self._engine.begin() as connection:
            upsert(connection, routes_table, rows, key="route")

    def routes(self) -> list[RouteSides]:
        """Every published route, by route id."""
        with translated(), self._engine.connect() as connection:
            rows = connection.execute(select(routes_table).order_by(routes_table.c.route)).all()
        return [sides_from(row) for row in rows]

    # -- switches (the statements in `switches`) ----------------------------------------------

    def switch(self, route: str, mode: RouteMode | None, *, actor: str, reason: str) -> Change:
        """Give `route` a run-time mode (None: back to its default from code), audited.

        One transaction: the version row is bumped first (`UPDATE ... RETURNING` locks it, so
        concurrent switches from any process get distinct consecutive versions), then the route
        is checked, the override written and the change recorded. Refusals leave no trace.
        """
        actor, reason = who(actor, reason)
        at = now()
        with translated(), self._engine.begin() as connection:
            change = switch_route(connection, route, mode, actor, reason, at)
        return change

    def switch_all(self, mode: RouteMode, *, actor: str, reason: str) -> list[Change]:
        """The big red button: every published route that has the target side goes to `mode`
        (legacy or new only) in one version; a history row for each route that changed.

        The routes both sides serve are pinned there (an override each). A route one side
        serves is left alone: it is on that side already and can be nowhere else, and a pin
        would keep it there after a later deploy gives it the other side.
        """
        if mode.mode not in (Mode.LEGACY, Mode.NEW):
            raise ModeRefused(f"every route can go to legacy or new at once, not {mode}")
        actor, reason = who(actor, reason)
        at = now()
        with translated(), self._engine.begin() as connection:
            changes = switch_every_route(connection, mode, actor, reason, at)
        return changes

    def history(self, route: str | None = None, limit: int = 100) -> list[Change]:
        """The audit trail, newest first; of one route when `route` is given."""
        if limit < 1:
            raise ModeRefused(f"a history limit is at least 1, not {limit}")
        h = history_table.c
        query = select(history_table).order_by(h.id.desc()).limit(limit)
        if route is not None:
            query = query.where(h.route == route)
        with translated(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [change_from(row) for row in rows]

    # -- processes ----------------------------------------------------------------------------

    def report_process(self, report: ProcessReport) -> None:
        """Insert or refresh a gateway process's heartbeat (and drop rows dead for a day)."""
        p = processes_table.c
        with translated(), self._engine.begin() as connection:
            upsert(connection, processes_table, [process_row(report)], key="process_id")
            connection.execute(
                delete(processes_table).where(p.seen_at < report.seen_at - PROCESS_RETENTION)
            )

    def processes(self, within: float = 15.0) -> list[ProcessReport]:
        """The processes that reported in the last `within` seconds, by host, pid, start."""
        p = processes_table.c
        cutoff = now() - timedelta(seconds=within)
        query = (
            select(processes_table)
            .where(p.seen_at >= cutoff)
            .order_by(p.host, p.pid, p.started_at, p.process_id)
        )
        with translated(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [report_from(row) for row in rows]

    def forget_process(self, process_id: str) -> None:
        """Remove a process's row (it is shutting down)."""
        with translated(), self._engine.begin() as connection:
            connection.execute(
                delete(processes_table).where(processes_table.c.process_id == process_id)
            )
