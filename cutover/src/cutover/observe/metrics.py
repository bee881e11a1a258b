"""Prometheus metrics of the gateway: requests, latency and errors by route, method, side and
mode, counted on the request path in about a microsecond; the legacy pool and the mode-state
version read when scraped. Multi-process aware (prometheus-client's `PROMETHEUS_MULTIPROC_DIR`)."""

from __future__ import annotations

import logging
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from cutover.observe.tally import RequestTally

logger = logging.getLogger("cutover")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"  # the route label of a request no route matched: never the raw path
OTHER_METHOD = "OTHER"  # the method label of a method outside METHODS: clients choose methods
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A trivial route answers in ~0.2 ms; a slow legacy one can wait seconds for a thread.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LABELS = ("route", "method", "side", "mode")

StateVersion = Callable[[], "int | None"]
_Key = tuple["str | None", str, str, str, int]
_Children = tuple[Counter, Histogram, "Counter | None"]


class PoolStats(Protocol):
    """What the metrics read of the legacy pool (`cutover.wsgi.WorkerPool` has it)."""

    @property
    def busy_count(self) -> int: ...
    @property
    def queued_count(self) -> int: ...
    @property
    def shed_count(self) -> int: ...
    @property
    def expired_count(self) -> int: ...


_HELP = {
    "busy": "Legacy pool threads running a request now.",
    "queued": "Legacy requests queued for a pool thread.",
    "shed": "Legacy requests refused because the pool queue was full.",
    "expired": "Legacy requests dropped after waiting too long for a pool thread.",
    "version": "Mode-state version this process routes by (NaN until it has loaded one).",
}
_NAMES = {
    "busy": "cutover_legacy_pool_busy_threads",
    "queued": "cutover_legacy_pool_queued_requests",
    "shed": "cutover_legacy_pool_shed",  # counters: exposed with _total
    "expired": "cutover_legacy_pool_expired",
    "version": "cutover_mode_state_version",
}


def multiprocess_dir() -> str | None:
    """The directory of prometheus-client's multi-process files, when that mode is on.

    The variable must be set before prometheus-client is first imported (it picks its value
    store then); set later, the metrics stay in memory and this warns and returns None.
    """
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    if values.ValueClass is values.MutexValue:
        logger.warning(
            "cutover: %s was set after prometheus-client was imported; metrics are per process",
            MULTIPROC_ENV,
        )
        return None
    return path


class GatewayMetrics:
    """The gateway's metrics in `registry` (a private one by default); `observe` per request.

    pool and state_version are read when scraped (they may be set later as attributes). In
    multi-process mode the values live in files every worker writes and `render` sums them; a
    daemon thread in each process writes its pool and version every `refresh_interval` seconds.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        pool: PoolStats | None = None,
        state_version: StateVersion | None = None,
        refresh_interval: float = 1.0,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.pool = pool
        self.state_version = state_version
        self.multiprocess_dir = multiprocess_dir()
        self._tally: RequestTally | None = None
        self._children: dict[_Key, _Children] = {}
        self._files: _FileGauges | None = None
        if self.multiprocess_dir is None:
            # One process: plain counters on the loop, made into families when scraped.
            self._tally = RequestTally(LATENCY_BUCKETS, LABELS, UNMATCHED, METHODS, OTHER_METHOD)
            self.registry.register(self._tally)
            # The request path calls the tally itself: one call per request, no lock.
            self.observe = self._tally.observe  # type: ignore[method-assign]
            self.registry.register(_ScrapeTimeCollector(self))
            return
        self._requests = Counter(
            "cutover_requests",
            "Requests answered, by status class (1xx-5xx).",
            (*LABELS, "status_class"),
            registry=self.registry,
        )
        self._latency = Histogram(
            "cutover_request_duration_seconds",
            "Time from the request reaching the gateway to the end of its answer.",
            LABELS,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._errors = Counter(
            "cutover_request_errors",
            "Requests answered with a 5xx status.",
            LABELS,
            registry=self.registry,
        )
        self._files = _FileGauges(self, self.registry, refresh_interval)

    def observe(
        self, route: str | None, method: str, side: str, mode: str, status: int, seconds: float
    ) -> None:
        """Count one answered request: route is its template (None when nothing matched, never
        the raw path), mode the mode's name (a canary's percentage belongs in the access log:
        as a label each new percentage would start new series)."""
        if method not in METHODS:
            method = OTHER_METHOD
        key = (route, method, side, mode, status)
        children = self._children.get(key)
        if children is None:
            children = self._bind(key)
        requests, latency, errors = children
        requests.inc()
        latency.observe(seconds)
        if errors is not None:
            errors.inc()

    def _bind(self, key: _Key) -> _Children:
        """The labelled children of a new label set, once: `.labels()` costs a lock and a
        dict lookup per call."""
        route, method, side, mode, status = key
        labels = (route if route is not None else UNMATCHED, method, side, mode)
        status_class = f"{status // 100}xx" if 100 <= status <= 599 else "other"
        children = (
            self._requests.labels(*labels, status_class),
            self._latency.labels(*labels),
            self._errors.labels(*labels) if 500 <= status <= 599 else None,
        )
        return self._children.setdefault(key, children)

    def render(self) -> tuple[bytes, str]:
        """The exposition body and its content type; every worker's values in multi-process
        mode (this reads the files: run it off the event loop if the directory is slow)."""
        if self._files is None or self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        self._files.refresh()
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """Stop the multi-process refresher thread (nothing to do in single-process mode)."""
        if self._files is not None:
            self._files.stop()


class _ScrapeTimeCollector(Collector):
    """Single process: the pool and version series, computed by callbacks at each scrape."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        return [
            GaugeMetricFamily(_NAMES["busy"], _HELP["busy"]),
            GaugeMetricFamily(_NAMES["queued"], _HELP["queued"]),
            CounterMetricFamily(_NAMES["shed"], _HELP["shed"]),
            CounterMetricFamily(_NAMES["expired"], _HELP["expired"]),
            GaugeMetricFamily(_NAMES["version"], _HELP["version"]),
        ]

    def collect(self) -> Iterator[Metric]:
        pool = self._metrics.pool
        if pool is not None:
            yield GaugeMetricFamily(_NAMES["busy"], _HELP["busy"], value=pool.busy_count)
            yield GaugeMetricFamily(_NAMES["queued"], _HELP["queued"], value=pool.queued_count)
            yield CounterMetricFamily(_NAMES["shed"], _HELP["shed"], value=pool.shed_count)
            yield CounterMetricFamily(_NAMES["expired"], _HELP["expired"], value=pool.expired_count)
        if self._metrics.state_version is not None:
            version = _read_version(self._metrics.state_version)
            yield GaugeMetricFamily(_NAMES["version"], _HELP["version"], value=version)


def _read_version(state_version: StateVersion) -> float:
    """The version as a sample value: NaN while unknown, or if the callback fails."""
    try:
        version = state_version()
    except Exception:
        logger.exception("cutover: the mode-state version callback raised")
        return math.nan
    return math.nan if version is None else float(version)


_live_file_gauges: weakref.WeakSet[_FileGauges] = weakref.WeakSet()


class _FileGauges:
    """Multi-process: the pool and version series as file-backed metrics this process writes
    (no callback runs in another worker's scrape); busy and queued summed over live workers,
    shed and expired counters summed over all, the version one series per live worker (pid)."""

    def __init__(
        self, metrics: GatewayMetrics, registry: CollectorRegistry, interval: float
    ) -> None:
        self._metrics = metrics
        self._interval = interval
        self.busy = Gauge(
            _NAMES["busy"], _HELP["busy"], registry=registry, multiprocess_mode="livesum"
        )
        self.queued = Gauge(
            _NAMES["queued"], _HELP["queued"], registry=registry, multiprocess_mode="livesum"
        )
        self.shed = Counter(_NAMES["shed"], _HELP["shed"], registry=registry)
        self.expired = Counter(_NAMES["expired"], _HELP["expired"], registry=registry)
        self.version = Gauge(
            _NAMES["version"], _HELP["version"], registry=registry, multiprocess_mode="liveall"
        )
        self._lock = threading.Lock()  # the refresher thread and a scrape may refresh at once
        self._counted = (0, 0)  # shed, expired already added to the counters
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _live_file_gauges.add(self)
        self.start()

    def start(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="cutover-metrics", daemon=True
        )
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            try:
                self.refresh()
            except Exception:
                logger.exception("cutover: writing the pool and version metrics failed")

    def refresh(self) -> None:
        """Write this process's pool occupancy and version into its files."""
        metrics = self._metrics
        with self._lock:
            pool = metrics.pool
            if pool is not None:
                self.busy.set(pool.busy_count)
                self.queued.set(pool.queued_count)
                shed, expired = pool.shed_count, pool.expired_count
                counted_shed, counted_expired = self._counted
                if shed > counted_shed:
                    self.shed.inc(shed - counted_shed)
                if expired > counted_expired:
                    self.expired.inc(expired - counted_expired)
                self._counted = (max(shed, counted_shed), max(expired, counted_expired))
            if metrics.state_version is not None:
                self.version.set(_read_version(metrics.state_version))

    def after_fork(self) -> None:
        """In a forked worker: the parent counted what its pool had; a refresher of our own."""
        self._lock = threading.Lock()
        pool = self._metrics.pool
        if pool is not None:
            self._counted = (pool.shed_count, pool.expired_count)
        if self._thread is not None:
            self.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()


def _restart_refreshers_in_child() -> None:
    for gauges in list(_live_file_gauges):
        gauges.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_refreshers_in_child)
