"""Per-request counts kept as plain numbers updated on the event loop (no lock, no prometheus
call per request) and turned into Prometheus families only when scraped: one process's metrics."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

_Key = tuple["str | None", str, str, str, int]


class _Series:
    """One (route, method, side, mode, status): its count, total seconds and bucket counts."""

    __slots__ = ("buckets", "count", "total")

    def __init__(self, size: int) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * size


class RequestTally(Collector):
    """Requests, latency and 5xx by route, method, side and mode, exposed like prometheus-client's
    Counter and Histogram of the same names (`cutover_requests_total`, ...)."""

    def __init__(
        self,
        bounds: Sequence[float],
        labels: Sequence[str],
        unmatched: str,
        methods: frozenset[str],
        other_method: str,
    ) -> None:
        self._methods = methods
        self._other_method = other_method
        self._bounds = tuple(bounds)
        self._labels = list(labels)
        self._unmatched = unmatched
        self._series: dict[_Key, _Series] = {}

    def observe(
        self, route: str | None, method: str, side: str, mode: str, status: int, seconds: float
    ) -> None:
        """Count one answer (as `GatewayMetrics.observe`); runs on the event loop only, so
        plain increments suffice."""
        if method not in self._methods:
            method = self._other_method
        key = (route, method, side, mode, status)
        series = self._series.get(key)
        if series is None:
            series = self._series.setdefault(key, _Series(len(self._bounds) + 1))
        series.count += 1
        series.total += seconds
        series.buckets[bisect_left(self._bounds, seconds)] += 1

    @property
    def bounds(self) -> tuple[float, ...]:
        return self._bounds

    def totals(self) -> dict[_Key, tuple[int, float, tuple[int, ...]]]:
        """Every series' running count, total seconds and bucket counts (+Inf last), copied
        on the event loop, for `cutover.observe.traffic` to take deltas from."""
        return {
            key: (one.count, one.total, tuple(one.buckets)) for key, one in self._series.items()
        }

    def describe(self) -> list[Metric]:
        return list(self._families({}))

    def collect(self) -> Iterator[Metric]:
        # One C-level copy: the loop may add series while a scrape runs on another thread.
        yield from self._families(dict(self._series))

    def _families(self, series: dict[_Key, _Series]) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "cutover_requests",
            "Requests answered, by status class (1xx-5xx).",
            labels=[*self._labels, "status_class"],
        )
        latency = HistogramMetricFamily(
            "cutover_request_duration_seconds",
            "Time from the request reaching the gateway to the end of its answer.",
            labels=self._labels,
        )
        errors = CounterMetricFamily(
            "cutover_request_errors", "Requests answered with a 5xx status.", labels=self._labels
        )
        by_class: dict[tuple[str, ...], int] = {}
        by_labels: dict[tuple[str, ...], tuple[list[int], float, int]] = {}
        for (route, method, side, mode, status), one in series.items():
            labels: tuple[str, ...] = (
                route if route is not None else self._unmatched,
                method,
                side,
                mode,
            )
            status_class = f"{status // 100}xx" if 100 <= status <= 599 else "other"
            by_class[(*labels, status_class)] = by_class.get((*labels, status_class), 0) + one.count
            buckets, total, failed = by_labels.get(labels, ([0] * len(one.buckets), 0.0, 0))
            merged = [a + b for a, b in zip(buckets, one.buckets, strict=True)]
            by_labels[labels] = (
                merged,
                total + one.total,
                failed + (one.count if status >= 500 else 0),
            )
        for class_labels, count in by_class.items():
            requests.add_metric(list(class_labels), count)
        for labels, (buckets, total, failed) in by_labels.items():
            cumulative, running = [], 0
            for bound, count in zip([*map(str, self._bounds), "+Inf"], buckets, strict=True):
                running += count
                cumulative.append((bound, float(running)))
            latency.add_metric(list(labels), cumulative, total)
            if failed:
                errors.add_metric(list(labels), failed)
        yield requests
        yield latency
        yield errors
