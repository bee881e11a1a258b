"""A thread pool that keeps few threads hot and adds more only when the running ones are stuck.

Under the GIL, every runnable thread competes with the event loop; with one runnable thread per
in-flight request the loop waits its turn behind all of them and tail latency grows. So jobs
queue for at most `hot` busy threads, which take the next job without sleeping in between. A
monitor, running only while jobs wait, wakes one more thread whenever a whole `tick` passes
without any job starting: the busy threads are then blocked (I/O, sleep, locks), so a stalled
handler holds one thread and never the queue. Threads start on demand, up to `size`.

Overload: with `max_queue`, `submit` refuses a job (False, counted in `shed_count`) while that
many jobs already wait for a thread; with `max_wait`, a job still waiting after that many seconds
is dropped from the queue without running, counted in `expired_count`, and its `on_expired` is
called. Both default to None: an unbounded queue, as before. While every thread is busy the
monitor sleeps until the oldest job's wait runs out instead of ticking.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], object]
OnExpired = Callable[[], None]

DEFAULT_HOT = 2
DEFAULT_TICK = 0.001
_NOTHING_EXPIRED: list[OnExpired | None] = []


class WorkerPool:
    """Runs callables in submission order on at most `size` threads, `hot` of them normally."""

    def __init__(
        self,
        size: int,
        *,
        hot: int = DEFAULT_HOT,
        tick: float = DEFAULT_TICK,
        name: str = "worker",
        max_queue: int | None = None,
        max_wait: float | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        if max_queue is not None and max_queue < 1:
            raise ValueError("max_queue must be at least 1, or None for no bound")
        if max_wait is not None and max_wait <= 0:
            raise ValueError("max_wait must be positive, or None for no bound")
        self.size = size
        self.hot = max(1, min(hot, size))
        self.tick = tick
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.shed_count = 0
        self.expired_count = 0
        self._name = name
        # (job, on_expired, when it was queued; 0.0 unless max_wait is set)
        self._jobs: deque[tuple[Job, OnExpired | None, float]] = deque()
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)
        self._backlog = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._active = 0
        self._running = 0
        self._started_jobs = 0
        self._monitor: threading.Thread | None = None
        self._closed = False

    @property
    def thread_count(self) -> int:
        """Threads started so far."""
        return len(self._threads)

    @property
    def busy_count(self) -> int:
        """Threads running a job now (the legacy side's occupancy, for metrics); one read of
        one value, without the lock, so a scrape never waits for the pool."""
        return self._running

    @property
    def queued_count(self) -> int:
        """Jobs queued and not yet started, whether or not a thread is about to take them."""
        return len(self._jobs)

    def submit(self, job: Job, on_expired: OnExpired | None = None) -> bool:
        """Queue `job` (it must handle its own exceptions); False if the queue is full.

        `on_expired` is called from a pool thread if the job waits longer than `max_wait` and
        is dropped; it must be cheap and thread-safe (e.g. `loop.call_soon_threadsafe`).
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("worker pool is closed")
            if self.max_queue is not None and self._waiting() >= self.max_queue:
                self.shed_count += 1
                return False
            self._jobs.append((job, on_expired, 0.0 if self.max_wait is None else time.monotonic()))
            if self._active < self.hot:
                self._activate_one()
            else:
                if self._monitor is None:
                    self._monitor = self._start_thread(self._watch_backlog, "monitor")
                self._backlog.notify()
        return True

    def _waiting(self) -> int:
        """Queued jobs no thread is about to take (active threads not running a job will)."""
        return len(self._jobs) - (self._active - self._running)

    def _activate_one(self) -> bool:
        """Wake an idle thread or start a new one; the lock must be held."""
        if self._idle:
            self._idle -= 1
            self._active += 1
            self._work_ready.notify()
            return True
        if len(self._threads) < self.size:
            self._active += 1
            self._threads.append(self._start_thread(self._work, str(len(self._threads))))
            return True
        return False

    def _start_thread(self, target: Callable[[], None], suffix: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=f"{self._name}-{suffix}", daemon=True)
        thread.start()
        return thread

    def _work(self) -> None:
        jobs = self._jobs
        ran = False
        while True:
            with self._lock:
                if ran:
                    self._running -= 1
                while not jobs:
                    if self._closed:
                        self._active -= 1
                        return
                    self._active -= 1
                    self._idle += 1
                    # Whoever wakes us has already counted us active again.
                    self._work_ready.wait()
                job = jobs.popleft()[0]
                self._running += 1
                self._started_jobs += 1
            ran = True
            try:
                job()
            except BaseException:
                logger.exception("a pool job raised; the thread carries on")

    def _expire_waiting(self) -> list[OnExpired | None]:
        """Drop the jobs that waited longer than `max_wait` (the oldest first); lock held."""
        jobs = self._jobs
        max_wait = self.max_wait
        if max_wait is None or not jobs:
            return _NOTHING_EXPIRED
        queued_before = time.monotonic() - max_wait
        if jobs[0][2] > queued_before:
            return _NOTHING_EXPIRED
        expired: list[OnExpired | None] = []
        while jobs and jobs[0][2] <= queued_before:
            expired.append(jobs.popleft()[1])
        self.expired_count += len(expired)
        return expired

    def _until_oldest_expires(self) -> float | None:
        """Seconds until the oldest waiting job runs out of `max_wait`; None if never."""
        if self.max_wait is None or not self._jobs:
            return None
        return max(0.0, self._jobs[0][2] + self.max_wait - time.monotonic())

    @staticmethod
    def _notify_expired(callbacks: list[OnExpired | None]) -> None:
        for callback in callbacks:
            if callback is not None:
                try:
                    callback()
                except Exception:
                    logger.exception("an on_expired callback raised")

    def _watch_backlog(self) -> None:
        while True:
            with self._lock:
                expired = self._expire_waiting()
                # Nothing to add a thread for (no job waits for one, or every thread is busy):
                # sleep until a job is queued or the oldest one's wait runs out. Only `submit`
                # makes more jobs wait, and it notifies.
                while (
                    not expired
                    and not self._closed
                    and (self._waiting() <= 0 or self._active >= self.size)
                ):
                    self._backlog.wait(self._until_oldest_expires())
                    expired = self._expire_waiting()
                closed = self._closed
                grow = self._waiting() > 0 and self._active < self.size
                started = self._started_jobs
            self._notify_expired(expired)
            if closed:
                return
            if not grow:
                continue
            time.sleep(self.tick)
            with self._lock:
                if self._waiting() > 0 and self._started_jobs == started:
                    self._activate_one()

    def close(self, wait: bool = False) -> None:
        """Let the threads finish the queued jobs, then stop."""
        with self._lock:
            self._closed = True
            self._work_ready.notify_all()
            self._backlog.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()
