"""How far the migration is: the share of routes and of traffic the FastAPI side answers, now
and hour by hour over the traffic kept (a day)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select

from cutover.control.engine import translated
from cutover.control.modes import Mode
from cutover.control.store import StateStore
from cutover.control.tables import traffic_table

if TYPE_CHECKING:
    from cutover.observe.traffic import SideTraffic

CHART_HOURS = 24

# The share of a route's clients each mode answers from the new side (canary: its percent).
_NEW_SHARE = {Mode.NEW.value: 1.0, Mode.REVERSE_SHADOW.value: 1.0}


class _Row(Protocol):
    @property
    def legacy(self) -> bool: ...
    @property
    def new(self) -> bool: ...
    @property
    def mode(self) -> str: ...
    @property
    def percent(self) -> float: ...
    @property
    def sides(self) -> dict[str, SideTraffic]: ...


@dataclass(frozen=True, slots=True)
class Progress:
    routes: int
    routes_on_new: float  # canaries count by their percent
    requests: int
    requests_on_new: int

    @property
    def route_share(self) -> float:
        return self.routes_on_new / self.routes if self.routes else 0.0

    @property
    def traffic_share(self) -> float | None:
        return self.requests_on_new / self.requests if self.requests else None


def new_share(legacy: bool, new: bool, mode: str, percent: float) -> float:
    """How much of a route the new side answers: 1 for new-only routes, else by its mode."""
    if not legacy:
        return 1.0 if new else 0.0
    if mode == Mode.CANARY.value:
        return percent / 100
    return _NEW_SHARE.get(mode, 0.0)


def progress(rows: Iterable[_Row]) -> Progress:
    routes = 0
    on_new = 0.0
    requests = 0
    requests_on_new = 0
    for row in rows:
        routes += 1
        on_new += new_share(row.legacy, row.new, row.mode, row.percent)
        for side, traffic in row.sides.items():
            requests += traffic.requests
            if side == "new":
                requests_on_new += traffic.requests
    return Progress(routes, on_new, requests, requests_on_new)


def hourly_share(store: StateStore, until: datetime) -> list[tuple[datetime, float | None]]:
    """The new side's share of requests in each of the last CHART_HOURS hours (None: none)."""
    start = until.replace(minute=0, second=0, microsecond=0) - timedelta(hours=CHART_HOURS - 1)
    c = traffic_table.c
    query = select(c.at, c.side, func.sum(c.requests)).where(c.at >= start).group_by(c.at, c.side)
    totals = [[0, 0] for _ in range(CHART_HOURS)]
    with translated(), store.engine.connect() as connection:
        for at, side, requests in connection.execute(query):
            hour = int((at - start).total_seconds() // 3600)
            if 0 <= hour < CHART_HOURS:
                totals[hour][0] += int(requests or 0)
                totals[hour][1] += int(requests or 0) if side == "new" else 0
    return [
        (start + timedelta(hours=hour), new / total if total else None)
        for hour, (total, new) in enumerate(totals)
    ]
