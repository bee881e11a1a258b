"""The pool's bounded queue: a full queue refuses work, and a job that waits too long never runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from cutover.wsgi import WorkerPool

WAIT = 10.0


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of each test, so blocked jobs always finish."""
    event = threading.Event()
    yield event
    event.set()


def occupy(pool: WorkerPool, threads: int, release: threading.Event) -> None:
    """Submit `threads` jobs that block until `release`, and wait until all of them run."""
    running = threading.Semaphore(0)

    def blocked() -> None:
        running.release()
        release.wait(WAIT)

    for _ in range(threads):
        assert pool.submit(blocked)
    for _ in range(threads):
        assert running.acquire(timeout=WAIT)


def test_a_full_queue_refuses_the_job_and_counts_it(release: threading.Event) -> None:
    pool = WorkerPool(2, max_queue=2)
    ran: list[int] = []
    try:
        occupy(pool, 2, release)
        assert pool.submit(lambda: ran.append(1))
        assert pool.submit(lambda: ran.append(2))
        assert not pool.submit(lambda: ran.append(3))
        assert (pool.shed_count, pool.expired_count) == (1, 0)
        release.set()
    finally:
        pool.close(wait=True)
    assert ran == [1, 2]


def test_a_queue_with_room_takes_jobs_while_threads_are_free() -> None:
    # Jobs a free thread is about to take are not waiting: a queue of one never refuses them.
    pool = WorkerPool(4, hot=4, max_queue=1)
    done = threading.Semaphore(0)
    try:
        accepted = [pool.submit(done.release) for _ in range(4)]
        for _ in range(4):
            assert done.acquire(timeout=WAIT)
    finally:
        pool.close(wait=True)
    assert accepted == [True] * 4
    assert pool.shed_count == 0


@pytest.mark.parametrize("hot", [1, 2], ids=["monitor-growing", "all-hot"])
def test_a_job_that_waits_too_long_expires_without_running(
    release: threading.Event, hot: int
) -> None:
    max_wait = 0.2
    pool = WorkerPool(2, hot=hot, max_wait=max_wait)
    ran, expired = threading.Event(), threading.Event()
    try:
        occupy(pool, 2, release)  # every thread busy: only the monitor can expire the job
        queued_at = time.monotonic()
        assert pool.submit(ran.set, expired.set)
        assert expired.wait(WAIT)
        waited = time.monotonic() - queued_at
        assert pool.expired_count == 1
        release.set()
        after = threading.Event()
        assert pool.submit(after.set)  # FIFO: the expired job would have run before this one
        assert after.wait(WAIT)
    finally:
        pool.close(wait=True)
    assert not ran.is_set()
    assert waited >= max_wait
    assert waited < WAIT / 2  # expired while the threads were still held, not when freed


def test_expiry_drops_the_oldest_jobs_only(release: threading.Event) -> None:
    pool = WorkerPool(1, max_wait=0.3)
    expired: list[str] = []
    ran: list[str] = []
    try:
        occupy(pool, 1, release)
        assert pool.submit(lambda: ran.append("old"), lambda: expired.append("old"))
        time.sleep(0.2)
        assert pool.submit(lambda: ran.append("young"), lambda: expired.append("young"))
        deadline = time.monotonic() + WAIT
        while not expired and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()  # the young job has waited about 0.1 s of its 0.3: it still runs
    finally:
        pool.close(wait=True)
    assert (expired, ran) == (["old"], ["young"])


def test_a_job_started_in_time_never_expires() -> None:
    pool = WorkerPool(1, max_queue=1, max_wait=0.05)
    ran = threading.Event()
    expired: list[bool] = []

    def slow() -> None:
        time.sleep(0.2)  # longer than max_wait, but started at once
        ran.set()

    try:
        assert pool.submit(slow, lambda: expired.append(True))
        assert ran.wait(WAIT)
    finally:
        pool.close(wait=True)
    assert (expired, pool.expired_count) == ([], 0)


def test_without_limits_the_queue_is_unbounded(release: threading.Event) -> None:
    pool = WorkerPool(1)
    done = threading.Semaphore(0)
    try:
        occupy(pool, 1, release)
        accepted = [pool.submit(done.release) for _ in range(500)]
        time.sleep(0.1)
        release.set()
        for _ in range(500):
            assert done.acquire(timeout=WAIT)
    finally:
        pool.close(wait=True)
    assert all(accepted)
    assert (pool.shed_count, pool.expired_count) == (0, 0)


@pytest.mark.parametrize(
    "options", [{"max_queue": 0}, {"max_wait": 0.0}, {"max_wait": -1.0}], ids=str
)
def test_limits_that_would_refuse_everything_are_rejected(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        WorkerPool(1, **options)  # type: ignore[arg-type]


def test_pool_runs_new_jobs_while_the_hot_threads_are_blocked() -> None:
    pool = WorkerPool(4, hot=1)
    release, quick_done = threading.Event(), threading.Event()
    try:
        pool.submit(lambda: release.wait(10))
        pool.submit(quick_done.set)
        assert quick_done.wait(10)
        assert not release.is_set()
    finally:
        release.set()
        pool.close(wait=True)
    assert pool.thread_count == 2
