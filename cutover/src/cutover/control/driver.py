"""The promotions' driver: it ticks in every gateway process (a publisher collector) and in
`cutover promote --wait`, and only the holder of a promotion's lease acts on it. The lease is
taken by a conditional UPDATE, renewed every tick, and expires, so another process carries a
promotion on when its driver dies; every write is fenced by the lease and the last switch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from cutover.control.engine import translated
from cutover.control.gate import Verdict, judge
from cutover.control.modes import LEGACY, NEW, Mode, RouteMode
from cutover.control.promotion import Promotion, State, promotion_from, promotion_row
from cutover.control.store import StateStore, now
from cutover.control.switches import switch_route
from cutover.control.tables import overrides_table, promotions_table
from cutover.observe.traffic import route_traffic
from cutover.publish import Write
from cutover.shadow.evidence import EvidenceStore

logger = logging.getLogger("cutover.control")

LEASE_SECONDS = 15.0
_ACTIVE = (State.RUNNING.value, State.HOLDING.value)
_INCLUSIVE = timedelta(microseconds=1)  # a window's end takes rows stamped at that instant

Clock = Callable[[], datetime]


def settle_seconds(poll_interval: float, publish_interval: float) -> float:
    """How long after a switch a step's rows can still hold the mode before it: every process
    follows within a poll, then publishes what it counted within two publish rounds."""
    return poll_interval + 2 * publish_interval


DEFAULT_SETTLE = settle_seconds(1.0, 2.0)  # the gateway's default intervals: 5 s


class _Superseded(Exception):
    """The lease was lost, or the promotion changed, between reading and writing."""


class PromotionDriver:
    """Walks every running promotion it holds the lease of one step further when its gate
    says so, brakes at once when it fails; `identity` names this driver in the lease."""

    def __init__(
        self,
        store: StateStore,
        identity: str | Callable[[], str],
        *,
        clock: Clock = now,
        lease: float = LEASE_SECONDS,
        settle: float = 0.0,
    ) -> None:
        self.store = store
        self._identity = identity
        self.clock = clock
        self.lease = timedelta(seconds=lease)
        # Rows stamped this soon after a step began may hold answers served before every process
        # followed the switch and published them: left out of the step's window.
        self.settle = timedelta(seconds=settle)

    @property
    def driver_id(self) -> str:
        return self._identity if isinstance(self._identity, str) else self._identity()

    def collect(self) -> Write:
        """The publisher's collector: nothing to take on the loop; the tick is the write."""
        return self._tick

    def _tick(self) -> None:
        self.tick()

    def tick(self) -> list[Promotion]:
        """One round (blocking): each active promotion whose lease this driver holds or takes,
        judged and moved on; returns them as they are now."""
        p = promotions_table.c
        with translated(), self.store.engine.connect() as connection:
            routes = connection.execute(
                select(p.route).where(p.state.in_(_ACTIVE)).order_by(p.route)
            ).scalars()
            active = list(routes)
        acted = []
        for route in active:
            promotion = self._take_lease(route)
            if promotion is None:
                continue
            try:
                acted.append(self._advance(promotion))
            except _Superseded:
                logger.info("cutover: promotion of %s moved on elsewhere", route)
        return acted

    def _take_lease(self, route: str) -> Promotion | None:
        me, at = self.driver_id, self.clock()
        p = promotions_table.c
        with translated(), self.store.engine.begin() as connection:
            taken = connection.execute(
                update(promotions_table)
                .where(p.route == route, p.state.in_(_ACTIVE))
                .where(or_(p.leader.is_(None), p.leader == me, p.lease_expires_at < at))
                .values(leader=me, lease_expires_at=at + self.lease)
            )
            if taken.rowcount != 1:
                return None
            row = connection.execute(select(promotions_table).where(p.route == route)).one()
        return promotion_from(row)

    def _advance(self, promotion: Promotion) -> Promotion:
        at = self.clock()
        switched = self._switched_elsewhere(promotion)
        if switched is not None:
            return self._record(promotion, at, state=State.CANCELLED, message=switched)
        verdict = self._judge(promotion, at)
        label = promotion.step_label()
        elapsed = (at - promotion.step_started_at).total_seconds()
        if verdict.outcome == "fail":
            message = f"rolled back to legacy at {label}: {verdict.gate} gate: {verdict.message}"
            reason = f"promotion brake, {verdict.gate} gate failed at {label}: {verdict.message}"
            return self._record(
                promotion, at, state=State.ROLLED_BACK, message=message, switch=(LEGACY, reason)
            )
        if elapsed < promotion.interval:
            message = (
                f"{label}: {elapsed:.1f} s of {promotion.interval:g} s; "
                f"so far {verdict.outcome}: {verdict.message}"
            )
            return self._record(promotion, at, state=State.RUNNING, message=message)
        if verdict.outcome == "hold":
            return self._record(
                promotion, at, state=State.HOLDING, message=f"holding at {label}: {verdict.message}"
            )
        return self._next_step(promotion, at, verdict)

    def _next_step(self, promotion: Promotion, at: datetime, verdict: Verdict) -> Promotion:
        label = promotion.step_label()
        if promotion.step + 1 == len(promotion.steps):
            reason = f"promotion complete, {label} passed: {verdict.message}"
            message = f"completed: new after {label} passed ({verdict.message})"
            return self._record(
                promotion, at, state=State.COMPLETED, message=message, switch=(NEW, reason)
            )
        step = promotion.step + 1
        mode = RouteMode(Mode.CANARY, promotion.steps[step])
        upcoming = f"step {step + 1} of {len(promotion.steps)} ({mode})"
        reason = f"promotion {upcoming}: {label} passed: {verdict.message}"
        message = f"{upcoming} from {at:%H:%M:%S}Z; {label} passed: {verdict.message}"
        return self._record(
            promotion,
            at,
            state=State.RUNNING,
            message=message,
            switch=(mode, reason),
            step=step,
            step_started_at=at,
        )

    def _judge(self, promotion: Promotion, at: datetime) -> Verdict:
        since, until = promotion.step_started_at + self.settle, at + _INCLUSIVE
        legacy, new = route_traffic(self.store, promotion.route, since, until)
        baseline = None
        if legacy.requests < promotion.thresholds.min_samples:
            # A high step leaves legacy few answers: compare with legacy since before the start.
            wider = promotion.started_at - timedelta(seconds=promotion.interval)
            baseline, _ = route_traffic(self.store, promotion.route, wider, until)
        shadow = EvidenceStore(self.store).counts(promotion.route, since, until)
        return judge(legacy, new, shadow, promotion.thresholds, baseline=baseline)

    def _switched_elsewhere(self, promotion: Promotion) -> str | None:
        """Why the promotion must stop when someone else switched its route, else None."""
        o = overrides_table.c
        with translated(), self.store.engine.connect() as connection:
            row = connection.execute(select(overrides_table).where(o.route == promotion.route))
            override = row.first()
        if override is not None and int(override.version) == promotion.version:
            return None
        if override is None:
            return (
                f"stopped at {promotion.step_label()}: the route was switched back to its "
                "default during the promotion"
            )
        mode = RouteMode(Mode(override.mode), override.percent)
        return (
            f"stopped at {promotion.step_label()}: the route was switched to {mode} by "
            f"{override.actor} (version {override.version}: {override.reason}) during the "
            "promotion"
        )

    def _record(
        self,
        promotion: Promotion,
        at: datetime,
        *,
        state: State,
        message: str,
        switch: tuple[RouteMode, str] | None = None,
        step: int | None = None,
        step_started_at: datetime | None = None,
    ) -> Promotion:
        """Write the promotion's new state (and its switch) in one transaction, fenced."""
        after = replace(promotion, state=state, message=message, updated_at=at)
        if step is not None and step_started_at is not None:
            after = replace(after, step=step, step_started_at=step_started_at)
        if not state.active:
            after = replace(after, leader=None, lease_expires_at=None)
        with translated(), self.store.engine.begin() as connection:
            if switch is not None:
                mode, reason = switch
                change = switch_route(
                    connection, promotion.route, mode, promotion.actor, reason, at
                )
                after = replace(after, version=change.version)
            self._fenced(connection, promotion, after)
        return after

    def _fenced(self, connection: Connection, before: Promotion, after: Promotion) -> None:
        p = promotions_table.c
        written = connection.execute(
            update(promotions_table)
            .where(p.route == before.route, p.state.in_(_ACTIVE))
            .where(p.leader == self.driver_id, p.version == before.version)
            .values(**promotion_row(after))
        )
        if written.rowcount != 1:
            raise _Superseded(before.route)  # rolls the switch back with the transaction
