"""A switch inside its one transaction: the version row is bumped first (`UPDATE ... RETURNING`
locks it, so concurrent switches from any process get distinct consecutive versions), then the
overrides and the history are written, and on PostgreSQL the doorbell rung on commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, text, update

from cutover.control.engine import NO_VERSION_ROW, StateNotInitialised, upsert
from cutover.control.modes import Change, ModeRefused, Override, RouteMode, RouteSides
from cutover.control.rows import history_row, override_from, override_row, sides_from
from cutover.control.tables import (
    VERSION_ROW,
    history_table,
    overrides_table,
    routes_table,
    state_table,
)

NOTIFY_CHANNEL = "cutover_state"


def who(actor: str, reason: str) -> tuple[str, str]:
    """A switch's actor and reason, stripped; refused when either is empty (history needs both)."""
    reason, actor = reason.strip(), actor.strip()
    if not reason:
        raise ModeRefused("a switch needs a reason (it goes into the history)")
    if not actor:
        raise ModeRefused("a switch needs an actor (who made it)")
    return actor, reason


def switch_route(
    connection: Connection,
    route: str,
    mode: RouteMode | None,
    actor: str,
    reason: str,
    at: datetime,
) -> Change:
    """`StateStore.switch` in its transaction: bump, check the route, write, record, ring."""
    version = _bump(connection, at)
    sides = _route(connection, route)
    if mode is not None:
        sides.check(mode)
    current = _overrides(connection, [route]).get(route)
    before = current.mode if current is not None else sides.default
    after = mode if mode is not None else sides.default
    if mode is None:
        connection.execute(delete(overrides_table).where(overrides_table.c.route == route))
    else:
        upsert(
            connection,
            overrides_table,
            [override_row(route, mode, actor, reason, at, version)],
            key="route",
        )
    change = Change(version, route, before, after, actor, reason, at)
    connection.execute(insert(history_table).values(**history_row(change)))
    _notify(connection, version)
    return change


def switch_every_route(
    connection: Connection, mode: RouteMode, actor: str, reason: str, at: datetime
) -> list[Change]:
    """`StateStore.switch_all` in its transaction: pin each two-sided route, record the changes."""
    version = _bump(connection, at)
    rows = connection.execute(select(routes_table).order_by(routes_table.c.route)).all()
    every = [sides_from(row) for row in rows]
    current = _overrides(connection, None)
    changes: list[Change] = []
    pinned = []
    for sides in every:
        if not (sides.legacy and sides.new):
            continue  # served by one side only: it is there already
        override = current.get(sides.route)
        if override is not None and override.mode == mode:
            continue  # already pinned there: keep who pinned it and why
        pinned.append(override_row(sides.route, mode, actor, reason, at, version))
        before = override.mode if override is not None else sides.default
        if before != mode:
            changes.append(Change(version, sides.route, before, mode, actor, reason, at))
    if pinned:
        upsert(connection, overrides_table, pinned, key="route")
    if changes:
        connection.execute(insert(history_table), [history_row(change) for change in changes])
    _notify(connection, version)
    return changes


def _bump(connection: Connection, at: datetime) -> int:
    version = connection.execute(
        update(state_table)
        .where(state_table.c.id == VERSION_ROW)
        .values(version=state_table.c.version + 1, updated_at=at)
        .returning(state_table.c.version)
    ).scalar_one_or_none()
    if version is None:
        raise StateNotInitialised(NO_VERSION_ROW)
    return int(version)


def _route(connection: Connection, route: str) -> RouteSides:
    row = connection.execute(select(routes_table).where(routes_table.c.route == route)).first()
    if row is None:
        raise ModeRefused(
            f"unknown route {route!r}: `cutover status` lists the routes the gateways "
            "published (a route is METHOD and path template, e.g. 'GET /items/{item_id}')"
        )
    return sides_from(row)


def _overrides(connection: Connection, routes: list[str] | None) -> dict[str, Override]:
    query = select(overrides_table)
    if routes is not None:
        query = query.where(overrides_table.c.route.in_(routes))
    return {row.route: override_from(row, row.version) for row in connection.execute(query)}


def _notify(connection: Connection, version: int) -> None:
    if connection.dialect.name == "postgresql":
        # Delivered on commit, to listeners only: a doorbell, never the truth.
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": NOTIFY_CHANNEL, "payload": str(version)},
        )
