"""The control plane's one truth: cutover's own tables in the database the apps share.

A single version row is the truth; every switch bumps it, writes the override and an audit row in
one transaction, and on PostgreSQL rings `pg_notify('cutover_state', '<version>')` as a doorbell.
Gateways publish the routes they know and report the version they serve."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    delete,
    func,
    insert,
    make_url,
    select,
    text,
    true,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from cutover.control.modes import (
    Change,
    Mode,
    ModeRefused,
    ModeState,
    Override,
    ProcessReport,
    RouteMode,
    RouteSides,
)

NOTIFY_CHANNEL = "cutover_state"
CONNECT_TIMEOUT_SECONDS = 3
SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
# Process rows nobody refreshed for this long are deleted by the next report.
PROCESS_RETENTION = timedelta(days=1)
_VERSION_ROW = 1
_NO_VERSION_ROW = "the state store has no version row: run `cutover init-state`"
# Any 64-bit key of cutover's own: serialises concurrent `create_tables` on PostgreSQL.
_CREATE_LOCK_KEY = 0x637574_6F766572


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime in and out, on backends with and without time zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        value = value.astimezone(UTC)
        # SQLite keeps no offset: store UTC wall time, so text order is time order.
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

state_table = Table(
    "cutover_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

overrides_table = Table(
    "cutover_overrides",
    metadata,
    Column("route", String(512), primary_key=True),
    Column("mode", String(32), nullable=False),
    Column("percent", Float, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("version", BigInteger, nullable=False),
)

history_table = Table(
    "cutover_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", BigInteger, nullable=False),
    Column("route", String(512), nullable=False),
    Column("before_mode", String(32), nullable=False),
    Column("before_percent", Float, nullable=False),
    Column("after_mode", String(32), nullable=False),
    Column("after_percent", Float, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_cutover_history_route_id", "route", "id"),
)

routes_table = Table(
    "cutover_routes",
    metadata,
    Column("route", String(512), primary_key=True),
    Column("legacy", Boolean, nullable=False),
    Column("new", Boolean, nullable=False),
    Column("default_mode", String(32), nullable=False),
    Column("default_percent", Float, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
)

processes_table = Table(
    "cutover_processes",
    metadata,
    Column("process_id", String(255), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("version", BigInteger, nullable=True),
    Column("healthy", Boolean, nullable=False),
)


class StoreUnavailable(Exception):
    """The state store cannot be used right now: unreachable, or its tables are missing."""


class StateNotInitialised(StoreUnavailable):
    """The state store has no cutover tables (or no version row): `cutover init-state`."""


def now() -> datetime:
    """The current time, timezone-aware UTC, as every row records it."""
    return datetime.now(UTC)


def _missing_tables(exc: sa_exc.DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "cutover_" in message and ("no such table" in message or "does not exist" in message)


@contextmanager
def _translated() -> Iterator[None]:
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


def _mode(mode: str, percent: float) -> RouteMode:
    return RouteMode(Mode(mode), percent)


def _sides(row: Any) -> RouteSides:
    return RouteSides(
        route=row.route,
        legacy=bool(row.legacy),
        new=bool(row.new),
        default=_mode(row.default_mode, row.default_percent),
    )


class StateStore:
    """cutover's tables at `url` (any SQLAlchemy URL; SQLite and PostgreSQL are tested).

    Thread-safe: the follower's thread, the admin API's worker threads and the CLI share one.
    """

    def __init__(self, url: str | URL) -> None:
        self.url = make_url(url)
        self._engine = _create_engine(self.url)

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
        with _translated(), self._engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(_CREATE_LOCK_KEY)))
            elif self.dialect == "sqlite":
                # Take the write lock first, so two processes never both find the tables missing.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            metadata.create_all(connection, checkfirst=True)
            exists = connection.execute(
                select(state_table.c.id).where(state_table.c.id == _VERSION_ROW)
            ).first()
            if exists is None:
                connection.execute(
                    insert(state_table).values(id=_VERSION_ROW, version=0, updated_at=now())
                )

    # -- the truth ----------------------------------------------------------------------------

    def read_version(self) -> int:
        """The current state version: one SELECT of one row."""
        with _translated(), self._engine.connect() as connection:
            version = connection.execute(
                select(state_table.c.version).where(state_table.c.id == _VERSION_ROW)
            ).scalar_one_or_none()
        if version is None:
            raise StateNotInitialised(
                "the state store has no version row: run `cutover init-state`"
            )
        return int(version)

    def read_state(self) -> ModeState:
        """The version and every override, read by one statement (so one snapshot)."""
        o = overrides_table.c
        query = (
            select(state_table.c.version, o.route, o.mode, o.percent, o.actor, o.reason, o.at)
            .add_columns(o.version.label("override_version"))
            .select_from(state_table.outerjoin(overrides_table, true()))
            .where(state_table.c.id == _VERSION_ROW)
            .order_by(o.route)
        )
        with _translated(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            raise StateNotInitialised(
                "the state store has no version row: run `cutover init-state`"
            )
        overrides = {
            row.route: Override(
                route=row.route,
                mode=_mode(row.mode, row.percent),
                actor=row.actor,
                reason=row.reason,
                at=row.at,
                version=int(row.override_version),
            )
            for row in rows
            if row.route is not None
        }
        return ModeState(version=int(rows[0].version), overrides=overrides)

    # -- routes -------------------------------------------------------------------------------

    def publish_routes(self, routes: Sequence[RouteSides]) -> None:
        """Record the routes a gateway knows (insert or update; the version does not move)."""
        at = now()
        rows = [
            {
                "route": sides.route,
                "legacy": sides.legacy,
                "new": sides.new,
                "default_mode": sides.default.mode.value,
                "default_percent": sides.default.percent,
                "published_at": at,
            }
            for sides in sorted(routes, key=lambda sides: sides.route)  # one lock order
        ]
        if not rows:
            return
        with _translated(), self._engine.begin() as connection:
            _upsert(connection, routes_table, rows, key="route")

    def routes(self) -> list[RouteSides]:
        """Every published route, by route id."""
        with _translated(), self._engine.connect() as connection:
            rows = connection.execute(select(routes_table).order_by(routes_table.c.route)).all()
        return [_sides(row) for row in rows]

    # -- switches -----------------------------------------------------------------------------

    def switch(self, route: str, mode: RouteMode | None, *, actor: str, reason: str) -> Change:
        """Give `route` a run-time mode (None: back to its default from code), audited.

        One transaction: the version row is bumped first (`UPDATE ... RETURNING` locks it, so
        concurrent switches from any process get distinct consecutive versions), then the route
        is checked, the override written and the change recorded. Refusals leave no trace.
        """
        actor, reason = _who(actor, reason)
        at = now()
        with _translated(), self._engine.begin() as connection:
            version = self._bump(connection, at)
            sides = self._route(connection, route)
            if mode is not None:
                sides.check(mode)
            current = self._overrides(connection, [route]).get(route)
            before = current.mode if current is not None else sides.default
            after = mode if mode is not None else sides.default
            if mode is None:
                connection.execute(delete(overrides_table).where(overrides_table.c.route == route))
            else:
                _upsert(
                    connection,
                    overrides_table,
                    [_override_row(route, mode, actor, reason, at, version)],
                    key="route",
                )
            change = Change(version, route, before, after, actor, reason, at)
            connection.execute(insert(history_table).values(**_history_row(change)))
            self._notify(connection, version)
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
        actor, reason = _who(actor, reason)
        at = now()
        with _translated(), self._engine.begin() as connection:
            version = self._bump(connection, at)
            rows = connection.execute(select(routes_table).order_by(routes_table.c.route)).all()
            every = [_sides(row) for row in rows]
            current = self._overrides(connection, None)
            changes: list[Change] = []
            pinned = []
            for sides in every:
                if not (sides.legacy and sides.new):
                    continue  # served by one side only: it is there already
                override = current.get(sides.route)
                if override is not None and override.mode == mode:
                    continue  # already pinned there: keep who pinned it and why
                pinned.append(_override_row(sides.route, mode, actor, reason, at, version))
                before = override.mode if override is not None else sides.default
                if before != mode:
                    changes.append(Change(version, sides.route, before, mode, actor, reason, at))
            if pinned:
                _upsert(connection, overrides_table, pinned, key="route")
            if changes:
                connection.execute(
                    insert(history_table), [_history_row(change) for change in changes]
                )
            self._notify(connection, version)
        return changes

    def history(self, route: str | None = None, limit: int = 100) -> list[Change]:
        """The audit trail, newest first; of one route when `route` is given."""
        if limit < 1:
            raise ModeRefused(f"a history limit is at least 1, not {limit}")
        h = history_table.c
        query = select(history_table).order_by(h.id.desc()).limit(limit)
        if route is not None:
            query = query.where(h.route == route)
        with _translated(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            Change(
                version=int(row.version),
                route=row.route,
                before=_mode(row.before_mode, row.before_percent),
                after=_mode(row.after_mode, row.after_percent),
                actor=row.actor,
                reason=row.reason,
                at=row.at,
            )
            for row in rows
        ]

    # -- processes ----------------------------------------------------------------------------

    def report_process(self, report: ProcessReport) -> None:
        """Insert or refresh a gateway process's heartbeat (and drop rows dead for a day)."""
        row = {
            "process_id": report.process_id,
            "host": report.host,
            "pid": report.pid,
            "started_at": report.started_at,
            "seen_at": report.seen_at,
            "version": report.version,
            "healthy": report.healthy,
        }
        p = processes_table.c
        with _translated(), self._engine.begin() as connection:
            _upsert(connection, processes_table, [row], key="process_id")
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
        with _translated(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            ProcessReport(
                process_id=row.process_id,
                host=row.host,
                pid=int(row.pid),
                started_at=row.started_at,
                seen_at=row.seen_at,
                version=None if row.version is None else int(row.version),
                healthy=bool(row.healthy),
            )
            for row in rows
        ]

    def forget_process(self, process_id: str) -> None:
        """Remove a process's row (it is shutting down)."""
        with _translated(), self._engine.begin() as connection:
            connection.execute(
                delete(processes_table).where(processes_table.c.process_id == process_id)
            )

    # -- inside a transaction -----------------------------------------------------------------

    def _bump(self, connection: Connection, at: datetime) -> int:
        version = connection.execute(
            update(state_table)
            .where(state_table.c.id == _VERSION_ROW)
            .values(version=state_table.c.version + 1, updated_at=at)
            .returning(state_table.c.version)
        ).scalar_one_or_none()
        if version is None:
            raise StateNotInitialised(
                "the state store has no version row: run `cutover init-state`"
            )
        return int(version)

    def _route(self, connection: Connection, route: str) -> RouteSides:
        row = connection.execute(select(routes_table).where(routes_table.c.route == route)).first()
        if row is None:
            raise ModeRefused(
                f"unknown route {route!r}: `cutover status` lists the routes the gateways "
                "published (a route is METHOD and path template, e.g. 'GET /items/{item_id}')"
            )
        return _sides(row)

    def _overrides(self, connection: Connection, routes: list[str] | None) -> dict[str, Override]:
        query = select(overrides_table)
        if routes is not None:
            query = query.where(overrides_table.c.route.in_(routes))
        return {
            row.route: Override(
                route=row.route,
                mode=_mode(row.mode, row.percent),
                actor=row.actor,
                reason=row.reason,
                at=row.at,
                version=int(row.version),
            )
            for row in connection.execute(query)
        }

    def _notify(self, connection: Connection, version: int) -> None:
        if self.dialect == "postgresql":
            # Delivered on commit, to listeners only: a doorbell, never the truth.
            connection.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": NOTIFY_CHANNEL, "payload": str(version)},
            )


def _who(actor: str, reason: str) -> tuple[str, str]:
    reason, actor = reason.strip(), actor.strip()
    if not reason:
        raise ModeRefused("a switch needs a reason (it goes into the history)")
    if not actor:
        raise ModeRefused("a switch needs an actor (who made it)")
    return actor, reason


def _override_row(
    route: str, mode: RouteMode, actor: str, reason: str, at: datetime, version: int
) -> dict[str, object]:
    return {
        "route": route,
        "mode": mode.mode.value,
        "percent": mode.percent,
        "actor": actor,
        "reason": reason,
        "at": at,
        "version": version,
    }


def _history_row(change: Change) -> dict[str, object]:
    return {
        "version": change.version,
        "route": change.route,
        "before_mode": change.before.mode.value,
        "before_percent": change.before.percent,
        "after_mode": change.after.mode.value,
        "after_percent": change.after.percent,
        "actor": change.actor,
        "reason": change.reason,
        "at": change.at,
    }


def _upsert(
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


def _create_engine(url: URL) -> Engine:
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
