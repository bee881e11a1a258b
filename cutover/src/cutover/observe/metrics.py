"""Prometheus metrics of the gateway: requests, latency and errors by route, method, side and
mode, counted on the request path in about a microsecond; the legacy pool and the mode-state
version read when scraped. Multi-process aware (prometheus-client's `PROMETHEUS_MULTIPROC_DIR`)."""

from __future__ import annotations

import logging
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

from cutover.observe.gauges import FileGauges, PoolStats, ScrapeTimeCollector, StateVersion
from cutover.observe.tally import RequestTally

# What this module has always offered, wherever it is defined now.
__all__ = [
    "LABELS",
    "LATENCY_BUCKETS",
    "METHODS",
    "MULTIPROC_ENV",
    "OTHER_METHOD",
    "UNMATCHED",
    "GatewayMetrics",
    "PoolStats",
    "StateVersion",
    "logger",
    "multiprocess_dir",
]

logger = logging.getLogger("cutover")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"  # the route label of a request no route matched: never the raw path
OTHER_METHOD = "OTHER"  # the method label of a method outside METHODS: clients choose methods
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A trivial route answers in ~0.2 ms; a slow legacy one can wait seconds for a thread.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LABELS = ("route", "method", "side", "mode")

_Key = tuple["str | None", str, str, str, int]
_Children = tuple[Counter, Histogram, "Counter | None"]


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
        # Plain counters on the loop, in every mode: the traffic the state store is given.
        self.tally = RequestTally(LATENCY_BUCKETS, LABELS, UNMATCHED, METHODS, OTHER_METHOD)
        self._children: dict[_Key, _Children] = {}
        self._files: FileGauges | None = None
        if self.multiprocess_dir is None:
            # One process: the tally is the metrics too, made into families when scraped.
            self.registry.register(self.tally)
            # The request path calls the tally itself: one call per request, no lock.
            self.observe = self.tally.observe  # type: ignore[method-assign]
            self.registry.register(ScrapeTimeCollector(self))
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
        self._files = FileGauges(self, self.registry, refresh_interval)

    def observe(
        self, route: str | None, method: str, side: str, mode: str, status: int, seconds: float
    ) -> None:
        """Count one answered request: route is its template (None when nothing matched, never
        the raw path), mode the mode's name (a canary's percentage belongs in the access log:
        as a label each new percentage would start new series)."""
        self.tally.observe(route, method, side, mode, status, seconds)
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
