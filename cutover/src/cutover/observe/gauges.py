"""The series read from the gateway rather than counted per request: the legacy pool's threads,
queue, shed and expired requests, and the mode-state version. One process computes them at each
scrape; in multi-process mode each worker writes them to its files from a refresher thread."""

from __future__ import annotations

import logging
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from cutover.observe.metrics import GatewayMetrics

logger = logging.getLogger("cutover")

StateVersion = Callable[[], "int | None"]


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


class ScrapeTimeCollector(Collector):
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


_live_file_gauges: weakref.WeakSet[FileGauges] = weakref.WeakSet()


class FileGauges:
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
