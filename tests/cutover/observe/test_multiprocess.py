"""Multi-process metrics for real: two worker processes write into one PROMETHEUS_MULTIPROC_DIR,
one of them renders, and the counts, live pool gauges and per-worker versions cover both."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.parser import text_string_to_metric_families

WAIT = 30.0

# A worker: its own pool figures and requests; it writes, says so, then waits for a command.
WORKER = """
import sys
from cutover.observe.metrics import GatewayMetrics

busy, queued, shed, expired, version, requests = (int(arg) for arg in sys.argv[1:])

class Pool:
    busy_count, queued_count, shed_count, expired_count = busy, queued, shed, expired

metrics = GatewayMetrics(pool=Pool(), state_version=lambda: version, refresh_interval=0.01)
assert metrics.multiprocess_dir is not None
for _ in range(requests):
    metrics.observe("/items/{item_id}", "GET", "new", "new", 200, 0.002)
metrics.observe(None, "GET", "legacy", "legacy", 503, 0.02)
metrics._files.refresh()
print("written", flush=True)
for command in sys.stdin:
    if command.strip() == "render":
        body, _ = metrics.render()
        sys.stdout.write(body.decode())
        print("<end>", flush=True)
metrics.close()
"""


Start = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Start]:
    """Start a worker on tmp_path with its figures; every worker is gone after the test."""
    started: list[subprocess.Popen[str]] = []

    def start(*figures: int) -> subprocess.Popen[str]:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, *(str(figure) for figure in figures)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        started.append(worker)
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "written"
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
            worker.wait(WAIT)
        for pipe in (worker.stdin, worker.stdout):
            if pipe is not None:
                pipe.close()


def render_in(worker: subprocess.Popen[str]) -> str:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write("render\n")
    worker.stdin.flush()
    lines = []
    for line in worker.stdout:
        if line.strip() == "<end>":
            break
        lines.append(line)
    return "".join(lines)


def values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def stop(worker: subprocess.Popen[str]) -> None:
    assert worker.stdin is not None
    worker.stdin.close()
    assert worker.wait(WAIT) == 0


ROUTE_LABELS = frozenset(
    {
        ("route", "/items/{item_id}"),
        ("method", "GET"),
        ("side", "new"),
        ("mode", "new"),
        ("status_class", "2xx"),
    }
)
ERROR_LABELS = frozenset(
    {("route", "<unmatched>"), ("method", "GET"), ("side", "legacy"), ("mode", "legacy")}
)


def test_one_worker_renders_the_sum_of_both(start_worker: Start) -> None:
    # busy, queued, shed, expired, version, requests
    first = start_worker(2, 1, 5, 1, 17, 3)
    second = start_worker(3, 0, 2, 0, 16, 4)
    found = values(render_in(second))
    stop(first)
    stop(second)
    assert found[("cutover_requests_total", ROUTE_LABELS)] == 7
    assert found[("cutover_request_errors_total", ERROR_LABELS)] == 2
    histogram = ROUTE_LABELS - {("status_class", "2xx")}
    assert found[("cutover_request_duration_seconds_count", histogram)] == 7
    assert found[("cutover_legacy_pool_busy_threads", frozenset())] == 5  # livesum
    assert found[("cutover_legacy_pool_queued_requests", frozenset())] == 1
    assert found[("cutover_legacy_pool_shed_total", frozenset())] == 7
    assert found[("cutover_legacy_pool_expired_total", frozenset())] == 1
    versions = {
        dict(labels)["pid"]: value
        for (name, labels), value in found.items()
        if name == "cutover_mode_state_version"
    }
    assert versions == {str(first.pid): 17, str(second.pid): 16}  # one series per live worker


def test_a_dead_workers_gauges_go_once_it_is_marked_dead(
    start_worker: Start, tmp_path: Path
) -> None:
    first = start_worker(2, 1, 5, 1, 17, 3)
    second = start_worker(3, 0, 2, 0, 16, 4)
    stop(first)
    stop(second)
    mark_process_dead(first.pid, str(tmp_path))  # type: ignore[no-untyped-call]  # gunicorn child_exit
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))  # type: ignore[no-untyped-call]
    found = values(generate_latest(registry).decode())
    assert found[("cutover_legacy_pool_busy_threads", frozenset())] == 3
    assert found[("cutover_requests_total", ROUTE_LABELS)] == 7  # counters keep the dead's counts
    assert found[("cutover_legacy_pool_shed_total", frozenset())] == 7
