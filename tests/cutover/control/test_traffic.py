"""Traffic per route and side in the shared database: each gateway's tally written as delta
rows, summed over every process by the reader, p50/p99 from the merged buckets, pruned by age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cutover.control.modes import Mode, RouteMode
from cutover.control.tables import TRAFFIC_BUCKETS, traffic_table
from cutover.observe.metrics import LATENCY_BUCKETS, GatewayMetrics
from cutover.observe.traffic import SideTraffic, TrafficCollector, read_traffic, route_traffic
from tests.cutover.control.stub_promotion import ROUTE, Clock, rig

pytestmark = pytest.mark.anyio


async def test_two_gateways_on_one_store_are_summed_per_route_and_side(state_url: str) -> None:
    clock = Clock()
    since = clock()
    with rig(state_url, "proc-a", clock) as a, rig(state_url, "proc-b", clock) as b:
        a.store.switch(ROUTE, RouteMode(Mode.CANARY, 50), actor="t", reason="half")
        a.follow()
        b.follow()
        assert await a.send("new", 6) == [200] * 6
        assert await a.send("legacy", 4) == [200] * 4
        b.fault.on = True
        assert await b.send("new", 3) == [500] * 3
        assert await b.send("legacy", 2) == [200] * 2
        a.publish()
        b.publish()
        clock.advance(1)
        assert await a.send("legacy", 1) == [200]
        a.publish()  # only what is new since the last write
        b.publish()  # nothing new: no row
        traffic = read_traffic(a.store, since, clock() + timedelta(seconds=1))
        with a.store.engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(traffic_table)).scalar()
    legacy, new = traffic[ROUTE]["legacy"], traffic[ROUTE]["new"]
    assert (legacy.requests, legacy.errors) == (4 + 2 + 1, 0)
    assert (new.requests, new.errors) == (6 + 3, 3)
    assert new.error_rate == pytest.approx(3 / 9)
    assert sum(new.buckets) == 9
    assert new.p50 is not None and new.p99 is not None and 0 < new.p50 <= new.p99
    assert rows == 5  # a: legacy+new, b: legacy+new, then a: legacy


async def test_a_window_takes_only_its_rows(state_url: str) -> None:
    clock = Clock()
    with rig(state_url, clock=clock) as one:
        await one.send("new", 5)
        one.publish()
        clock.advance(10)
        middle = clock()
        await one.send("new", 2)
        one.publish()
        legacy, new = route_traffic(one.store, ROUTE, middle, middle + timedelta(seconds=1))
        before = route_traffic(one.store, ROUTE, middle - timedelta(seconds=20), middle)
    assert (legacy.requests, new.requests) == (0, 2)
    assert before[1].requests == 5


async def test_rows_older_than_the_retention_are_pruned_by_the_writer(state_url: str) -> None:
    clock = Clock()
    with rig(state_url, clock=clock) as one:
        await one.send("new", 3)
        one.publish()
        old = clock()
        clock.advance(3600)
        pruning = TrafficCollector(
            one.gateway.metrics.tally, one.store, clock=clock, retention=timedelta(minutes=30)
        )
        write = pruning()  # the first call of a collector prunes
        assert write is not None
        write()
        kept = route_traffic(one.store, ROUTE, old - timedelta(seconds=1))
    assert kept[1].requests == 3  # the new collector's first rows: everything counted so far
    assert sum(side.requests for side in kept) == 3


def test_quantiles_interpolate_within_the_merged_buckets() -> None:
    buckets = [0] * TRAFFIC_BUCKETS
    buckets[0] = 50  # <= 1 ms
    buckets[4] = 50  # 10-25 ms
    side = SideTraffic(requests=100, buckets=tuple(buckets))
    assert side.p50 == pytest.approx(0.001)
    assert side.p99 == pytest.approx(0.01 + 0.015 * 49 / 50)
    slow = SideTraffic(requests=1, buckets=(0,) * (TRAFFIC_BUCKETS - 1) + (1,))
    assert slow.p99 == LATENCY_BUCKETS[-1]
    assert SideTraffic().p99 is None and SideTraffic().error_rate is None


def test_the_table_keeps_one_column_per_latency_bucket() -> None:
    assert len(LATENCY_BUCKETS) + 1 == TRAFFIC_BUCKETS
    assert len(GatewayMetrics().tally.bounds) == len(LATENCY_BUCKETS)
