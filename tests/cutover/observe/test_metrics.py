"""The gateway's Prometheus metrics as prometheus-client renders them: counts by route, method,
side, mode and status class, latency buckets, 5xx errors, bounded labels, and the legacy pool and
mode-state version read at each scrape."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from cutover.observe.metrics import (
    LATENCY_BUCKETS,
    MULTIPROC_ENV,
    OTHER_METHOD,
    UNMATCHED,
    GatewayMetrics,
)
from cutover.wsgi import WorkerPool

pytestmark = pytest.mark.skipif(
    MULTIPROC_ENV in os.environ, reason="single-process mode (test_multiprocess covers the other)"
)

WAIT = 10.0
ROUTE = "/items/{item_id}"


def samples(metrics: GatewayMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the rendered text: (name, labels) -> value."""
    body, content_type = metrics.render()
    assert content_type == CONTENT_TYPE_LATEST
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def test_requests_are_counted_by_route_method_side_mode_and_status_class() -> None:
    metrics = GatewayMetrics()
    metrics.observe(ROUTE, "GET", "new", "new", 200, 0.0004)
    metrics.observe(ROUTE, "GET", "new", "new", 204, 0.0004)
    metrics.observe(ROUTE, "GET", "legacy", "canary 10%", 200, 0.002)
    metrics.observe(ROUTE, "GET", "new", "new", 404, 0.0004)
    metrics.observe(ROUTE, "POST", "legacy", "legacy", 503, 3.0)
    found = samples(metrics)
    base = {"route": ROUTE, "method": "GET"}
    requests = "cutover_requests_total"
    assert found[(requests, labels(**base, side="new", mode="new", status_class="2xx"))] == 2
    assert found[(requests, labels(**base, side="new", mode="new", status_class="4xx"))] == 1
    key = labels(**base, side="legacy", mode="canary 10%", status_class="2xx")
    assert found[(requests, key)] == 1
    post = labels(route=ROUTE, method="POST", side="legacy", mode="legacy", status_class="5xx")
    assert found[(requests, post)] == 1
    errors = [
        (key, value) for key, value in found.items() if key[0] == "cutover_request_errors_total"
    ]
    assert errors == [
        (
            (
                "cutover_request_errors_total",
                labels(route=ROUTE, method="POST", side="legacy", mode="legacy"),
            ),
            1,
        )
    ]


def test_latency_lands_in_buckets_from_1_ms_to_10_s() -> None:
    metrics = GatewayMetrics()
    for seconds in (0.0002, 0.0009, 0.004, 0.3, 7.0, 12.0):
        metrics.observe(ROUTE, "GET", "new", "new", 200, seconds)
    found = samples(metrics)
    series = labels(route=ROUTE, method="GET", side="new", mode="new")
    name = "cutover_request_duration_seconds"
    buckets = {
        float(dict(key[1])["le"]): value
        for key, value in found.items()
        if key[0] == f"{name}_bucket" and key[1] - {("le", dict(key[1])["le"])} == series
    }
    assert sorted(bound for bound in buckets if not math.isinf(bound)) == list(LATENCY_BUCKETS)
    assert LATENCY_BUCKETS[0] == 0.001 and LATENCY_BUCKETS[-1] == 10.0
    assert buckets[0.001] == 2
    assert buckets[0.005] == 3
    assert buckets[0.5] == 4
    assert buckets[10.0] == 5
    assert buckets[math.inf] == 6
    assert found[(f"{name}_count", series)] == 6
    assert found[(f"{name}_sum", series)] == pytest.approx(0.0002 + 0.0009 + 0.004 + 0.3 + 19.0)


def test_unmatched_routes_and_unknown_methods_get_fixed_labels() -> None:
    metrics = GatewayMetrics()
    metrics.observe(None, "GET", "legacy", "legacy", 404, 0.001)
    metrics.observe(None, "GET", "legacy", "legacy", 404, 0.001)
    metrics.observe(None, "BREW", "legacy", "legacy", 405, 0.001)
    metrics.observe(None, "X" * 50, "legacy", "legacy", 405, 0.001)
    metrics.observe(ROUTE, "delete", "gateway", "new", 405, 0.001)
    found = samples(metrics)
    routes = {dict(key[1]).get("route") for key in found if key[0] == "cutover_requests_total"}
    methods = {dict(key[1]).get("method") for key in found if key[0] == "cutover_requests_total"}
    assert routes == {UNMATCHED, ROUTE}
    assert methods == {"GET", OTHER_METHOD}
    unmatched = labels(
        route=UNMATCHED, method="GET", side="legacy", mode="legacy", status_class="4xx"
    )
    assert found[("cutover_requests_total", unmatched)] == 2
    other = labels(
        route=UNMATCHED, method=OTHER_METHOD, side="legacy", mode="legacy", status_class="4xx"
    )
    assert found[("cutover_requests_total", other)] == 2


def test_one_process_counts_without_prometheus_client_calls_per_request() -> None:
    metrics = GatewayMetrics()
    for _ in range(100):
        metrics.observe(ROUTE, "GET", "new", "new", 200, 0.001)
        metrics.observe(ROUTE, "GET", "new", "new", 500, 0.001)
    # No labelled prometheus-client child (each call of which takes a lock) was made.
    assert metrics._children == {}
    found = samples(metrics)
    series = labels(route=ROUTE, method="GET", side="new", mode="new")
    assert found[("cutover_request_duration_seconds_count", series)] == 200
    assert found[("cutover_request_duration_seconds_sum", series)] == pytest.approx(0.2)
    assert found[("cutover_request_errors_total", series)] == 100


def test_a_registry_can_be_given_and_two_gateways_each_have_their_own() -> None:
    registry = CollectorRegistry()
    given = GatewayMetrics(registry)
    assert given.registry is registry
    assert GatewayMetrics().registry is not GatewayMetrics().registry


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_the_pool_and_state_version_are_read_at_each_scrape(release: threading.Event) -> None:
    pool = WorkerPool(2, hot=2, max_queue=2)
    version: list[int | None] = [None]
    metrics = GatewayMetrics(pool=pool, state_version=lambda: version[0])
    running = threading.Semaphore(0)

    def blocked() -> None:
        running.release()
        release.wait(WAIT)

    try:
        found = samples(metrics)
        assert found[("cutover_legacy_pool_busy_threads", labels())] == 0
        assert found[("cutover_legacy_pool_queued_requests", labels())] == 0
        assert found[("cutover_legacy_pool_shed_total", labels())] == 0
        assert found[("cutover_legacy_pool_expired_total", labels())] == 0
        assert math.isnan(found[("cutover_mode_state_version", labels())])
        for _ in range(2):
            assert pool.submit(blocked)
        for _ in range(2):
            assert running.acquire(timeout=WAIT)
        assert pool.submit(blocked) and pool.submit(blocked)
        assert not pool.submit(blocked)  # the queue of 2 is full: shed
        version[0] = 17
        found = samples(metrics)
        assert found[("cutover_legacy_pool_busy_threads", labels())] == 2
        assert found[("cutover_legacy_pool_queued_requests", labels())] == 2
        assert found[("cutover_legacy_pool_shed_total", labels())] == 1
        assert found[("cutover_mode_state_version", labels())] == 17
    finally:
        release.set()
        pool.close(wait=True)


def test_without_sources_the_pool_and_version_series_are_absent() -> None:
    names = {name for name, _ in samples(GatewayMetrics())}
    assert not {name for name in names if "pool" in name or "version" in name}


def test_a_failing_version_callback_gives_nan_not_a_failed_scrape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> int | None:
        raise RuntimeError("state not loaded")

    metrics = GatewayMetrics(state_version=broken)
    assert math.isnan(samples(metrics)[("cutover_mode_state_version", labels())])
    assert "version callback raised" in caplog.text


def test_expired_legacy_requests_are_counted(release: threading.Event) -> None:
    pool = WorkerPool(1, hot=1, max_wait=0.01)
    metrics = GatewayMetrics(pool=pool)
    running = threading.Semaphore(0)

    def blocked() -> None:
        running.release()
        release.wait(WAIT)

    try:
        assert pool.submit(blocked)
        assert running.acquire(timeout=WAIT)
        assert pool.submit(blocked)
        deadline = time.monotonic() + WAIT
        while pool.expired_count == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert samples(metrics)[("cutover_legacy_pool_expired_total", labels())] == 1
    finally:
        release.set()
        pool.close(wait=True)
