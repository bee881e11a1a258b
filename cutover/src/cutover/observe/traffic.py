"""Each process's request counts per route and side reach `cutover_traffic` as delta rows, so
whoever reads them (a promotion's gate, `cutover routes`) sees the traffic of every process.

The counting is the gateway's `RequestTally` (plain numbers on the event loop, nothing added per
request); a publisher collector takes what is new since its last call and hands back the insert.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from cutover.control.engine import translated
from cutover.control.modes import route_id
from cutover.control.store import StateStore, now
from cutover.control.tables import TRAFFIC_BUCKETS, traffic_table
from cutover.observe.metrics import LATENCY_BUCKETS
from cutover.observe.tally import RequestTally
from cutover.publish import Write

TRAFFIC_RETENTION = timedelta(days=1)  # rows older than this are deleted by the writers
PRUNE_EVERY = timedelta(minutes=5)
SIDES = ("legacy", "new")  # the gateway's own answers (OPTIONS, 405) are not traffic of a side
_BUCKET_COLUMNS = tuple(f"b{index}" for index in range(TRAFFIC_BUCKETS))

Clock = Callable[[], datetime]
_Key = tuple["str | None", str, str, str, int]
_Totals = tuple[int, float, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class SideTraffic:
    """One side of one route over a window: answers, 5xx, seconds and latency bucket counts."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    buckets: tuple[int, ...] = (0,) * TRAFFIC_BUCKETS

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def p50(self) -> float | None:
        return self.quantile(0.5)

    @property
    def p99(self) -> float | None:
        return self.quantile(0.99)

    def quantile(self, q: float) -> float | None:
        """As Prometheus' `histogram_quantile`: linear within the bucket holding the rank; the
        highest finite bound for the +Inf bucket; None without answers."""
        total = sum(self.buckets)
        if not total:
            return None
        rank = q * total
        running = 0
        for index, count in enumerate(self.buckets):
            if count and running + count >= rank:
                if index >= len(LATENCY_BUCKETS):
                    return LATENCY_BUCKETS[-1]
                lower = LATENCY_BUCKETS[index - 1] if index else 0.0
                upper = LATENCY_BUCKETS[index]
                return lower + (upper - lower) * (rank - running) / count
            running += count
        return LATENCY_BUCKETS[-1]

    def to_json(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": _rounded(self.error_rate),
            "p50": _rounded(self.p50),
            "p99": _rounded(self.p99),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


class TrafficCollector:
    """A `Publisher` collector: the tally's counts since the last call, as rows to insert, and
    now and then the deletion of rows older than `retention`."""

    def __init__(
        self,
        tally: RequestTally,
        store: StateStore,
        *,
        clock: Clock = now,
        retention: timedelta = TRAFFIC_RETENTION,
        process_id: str | None = None,
    ) -> None:
        if len(tally.bounds) + 1 != TRAFFIC_BUCKETS:
            raise ValueError(f"cutover_traffic keeps {TRAFFIC_BUCKETS} buckets, not the tally's")
        self._tally = tally
        self._store = store
        self._clock = clock
        self._retention = retention
        self._process_id = process_id
        self._pid = -1
        self._last: dict[_Key, _Totals] = {}
        self._pruned_at: datetime | None = None

    @property
    def process_id(self) -> str:
        """`host:pid:started`, made again after a fork (a worker is a process of its own)."""
        if self._process_id is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._process_id = f"{socket.gethostname()}:{self._pid}:{now():%Y%m%dT%H%M%S.%fZ}"
        return self._process_id

    def __call__(self) -> Write | None:
        """Runs on the event loop: the deltas since the last call, merged by route and side."""
        totals = self._tally.totals()
        merged: dict[tuple[str, str], list[float]] = {}
        for key, (count, seconds, buckets) in totals.items():
            before = self._last.get(key)
            if before is not None and before[0] == count:
                continue
            template, method, side, _mode, status = key
            if template is None or side not in SIDES:
                continue
            was_count, was_seconds, was_buckets = before or (0, 0.0, (0,) * len(buckets))
            row = merged.setdefault((route_id(method, template), side), [0.0] * (3 + len(buckets)))
            row[0] += count - was_count
            row[1] += count - was_count if status >= 500 else 0
            row[2] += seconds - was_seconds
            for index, (now_in, was_in) in enumerate(zip(buckets, was_buckets, strict=True)):
                row[3 + index] += now_in - was_in
        self._last = totals
        at = self._clock()
        prune = self._pruned_at is None or at - self._pruned_at >= PRUNE_EVERY
        if not merged and not prune:
            return None
        if prune:
            self._pruned_at = at
        process = self.process_id
        rows = [
            {
                "process_id": process,
                "route": route,
                "side": side,
                "at": at,
                "requests": int(row[0]),
                "errors": int(row[1]),
                "seconds": row[2],
                **{name: int(value) for name, value in zip(_BUCKET_COLUMNS, row[3:], strict=True)},
            }
            for (route, side), row in sorted(merged.items())
        ]
        cutoff = at - self._retention if prune else None
        return functools.partial(write_traffic, self._store, rows, cutoff)


def write_traffic(
    store: StateStore, rows: Sequence[dict[str, object]], prune_before: datetime | None
) -> None:
    """Insert the delta rows (and delete those older than `prune_before`), one transaction."""
    with translated(), store.engine.begin() as connection:
        if rows:
            connection.execute(insert(traffic_table), list(rows))
        if prune_before is not None:
            connection.execute(delete(traffic_table).where(traffic_table.c.at < prune_before))


def read_traffic(
    store: StateStore,
    since: datetime,
    until: datetime | None = None,
    route: str | None = None,
) -> dict[str, dict[str, SideTraffic]]:
    """Every process's traffic from `since` (inclusive) to `until` (exclusive; None: now), by
    route and side; of one route when `route` is given. Summed by the database."""
    c = traffic_table.c
    sums = [func.sum(c[name]) for name in ("requests", "errors", "seconds", *_BUCKET_COLUMNS)]
    query = select(c.route, c.side, *sums).where(c.at >= since).group_by(c.route, c.side)
    if until is not None:
        query = query.where(c.at < until)
    if route is not None:
        query = query.where(c.route == route)
    with translated(), store.engine.connect() as connection:
        rows = connection.execute(query.order_by(c.route, c.side)).all()
    found: dict[str, dict[str, SideTraffic]] = {}
    for name, side, requests, errors, seconds, *buckets in rows:
        found.setdefault(name, {})[side] = SideTraffic(
            requests=int(requests or 0),
            errors=int(errors or 0),
            seconds=float(seconds or 0.0),
            buckets=tuple(int(count or 0) for count in buckets),
        )
    return found


def route_traffic(
    store: StateStore, route: str, since: datetime, until: datetime | None = None
) -> tuple[SideTraffic, SideTraffic]:
    """`route`'s (legacy, new) traffic over the window; empty sides when nothing was counted."""
    sides = read_traffic(store, since, until, route).get(route, {})
    return sides.get("legacy", SideTraffic()), sides.get("new", SideTraffic())
