"""The legacy pool's occupancy as the metrics read it: threads busy and jobs queued, right now."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from cutover.wsgi import WorkerPool

WAIT = 10.0


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_busy_and_queued_follow_the_jobs(release: threading.Event) -> None:
    pool = WorkerPool(2, hot=2)
    running = threading.Semaphore(0)

    def blocked() -> None:
        running.release()
        release.wait(WAIT)

    try:
        assert (pool.busy_count, pool.queued_count) == (0, 0)
        for _ in range(2):
            assert pool.submit(blocked)
        for _ in range(2):
            assert running.acquire(timeout=WAIT)
        assert (pool.busy_count, pool.queued_count) == (2, 0)
        for _ in range(3):
            assert pool.submit(blocked)
        assert (pool.busy_count, pool.queued_count) == (2, 3)
        release.set()
        for _ in range(3):
            assert running.acquire(timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while pool.busy_count and time.monotonic() < deadline:
            time.sleep(0.001)
        assert (pool.busy_count, pool.queued_count) == (0, 0)
    finally:
        release.set()
        pool.close(wait=True)


def test_the_counts_are_read_only() -> None:
    pool = WorkerPool(1)
    try:
        with pytest.raises(AttributeError):
            pool.busy_count = 3  # type: ignore[misc]
        with pytest.raises(AttributeError):
            pool.queued_count = 3  # type: ignore[misc]
    finally:
        pool.close()
