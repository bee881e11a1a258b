"""Promotions kept in the shared database: started (the first canary step switched at once,
in the same transaction), cancelled, listed. `cutover.control.driver` walks them up."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, select, update

from cutover.control.engine import translated, upsert
from cutover.control.modes import Mode, ModeRefused, RouteMode
from cutover.control.promotion import (
    DEFAULT_INTERVAL,
    DEFAULT_STEPS,
    Promotion,
    State,
    Thresholds,
    parse_steps,
    promotion_from,
    promotion_row,
)
from cutover.control.store import StateStore, now
from cutover.control.switches import switch_route, who
from cutover.control.tables import promotions_table

Clock = Callable[[], datetime]


class Promotions:
    """The promotions in `store`: `start`, `cancel`, `get`, `all` (`clock` stamps them)."""

    def __init__(self, store: StateStore, *, clock: Clock = now) -> None:
        self.store = store
        self.clock = clock

    def start(
        self,
        route: str,
        *,
        steps: Sequence[float] = DEFAULT_STEPS,
        interval: float = DEFAULT_INTERVAL,
        thresholds: Thresholds | None = None,
        actor: str,
        reason: str,
    ) -> Promotion:
        """Put `route` on its first canary step now and record the promotion (refused while
        another promotion of the route is running or holding)."""
        steps = parse_steps(steps)
        if not interval > 0:
            raise ModeRefused(f"a step's interval is more than zero seconds, not {interval:g}")
        actor, reason = who(actor, reason)
        at = self.clock()
        with translated(), self.store.engine.begin() as connection:
            current = _read(connection, route)
            if current is not None and current.state.active:
                raise ModeRefused(
                    f"{route} is being promoted already ({current.step_label()}, "
                    f"{current.state}): `cutover promote {_args(route)} --cancel` first"
                )
            mode = RouteMode(Mode.CANARY, steps[0])
            change = switch_route(
                connection,
                route,
                mode,
                actor,
                f"promotion step 1 of {len(steps)} ({mode}): {reason}",
                at,
            )
            promotion = Promotion(
                route=route,
                steps=steps,
                step=0,
                step_started_at=at,
                interval=float(interval),
                thresholds=thresholds or Thresholds(),
                state=State.RUNNING,
                message=f"step 1 of {len(steps)} ({mode}) from {change.before}",
                actor=actor,
                reason=reason,
                started_at=at,
                updated_at=at,
                version=change.version,
            )
            upsert(connection, promotions_table, [promotion_row(promotion)], key="route")
        return promotion

    def cancel(self, route: str, *, actor: str, reason: str) -> Promotion:
        """Stop `route`'s promotion where it is: the route keeps its current step's canary
        until someone switches it (`cutover switch`)."""
        actor, reason = who(actor, reason)
        at = self.clock()
        with translated(), self.store.engine.begin() as connection:
            current = _read(connection, route)
            if current is None or not current.state.active:
                state = "none" if current is None else current.state.value
                raise ModeRefused(f"{route} has no promotion running (last: {state})")
            message = (
                f"cancelled by {actor} at {current.step_label()}: {reason}; the route stays "
                f"{current.mode} until switched"
            )
            return finish(connection, current, State.CANCELLED, message, at)

    def get(self, route: str) -> Promotion | None:
        """`route`'s promotion (the last one, whatever its state), or None."""
        with translated(), self.store.engine.connect() as connection:
            return _read(connection, route)

    def all(self, *, active: bool = False) -> list[Promotion]:
        """Every route's last promotion (only those running or holding if `active`), by route."""
        p = promotions_table.c
        query = select(promotions_table).order_by(p.route)
        if active:
            query = query.where(p.state.in_([State.RUNNING.value, State.HOLDING.value]))
        with translated(), self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [promotion_from(row) for row in rows]


def finish(
    connection: Connection, promotion: Promotion, state: State, message: str, at: datetime
) -> Promotion:
    """Record a promotion's end (or any state change without a switch) in `connection`."""
    connection.execute(
        update(promotions_table)
        .where(promotions_table.c.route == promotion.route)
        .values(state=state.value, message=message, updated_at=at, leader=None)
    )
    return replace(promotion, state=state, message=message, updated_at=at, leader=None)


def _read(connection: Connection, route: str) -> Promotion | None:
    row = connection.execute(
        select(promotions_table).where(promotions_table.c.route == route)
    ).first()
    return None if row is None else promotion_from(row)


def _args(route: str) -> str:
    method, _, path = route.partition(" ")
    return f'{method} "{path}"'
