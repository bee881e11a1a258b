"""A thread pool that keeps few threads hot and adds more only when the running ones are stuck.

Under the GIL, every runnable thread competes with the event loop; with one runnable thread per
in-flight request the loop waits its turn behind all of them and tail latency grows. So jobs
queue for at most `hot` busy threads, which take the next job without sleeping in between. A
monitor, running only while jobs wait, wakes one more thread whenever a whole `tick` passes
without any job starting: the busy threads are then blocked (I/O, sleep, locks), so a stalled
handler holds one thread and never the queue. Threads start on demand, up to `size`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], object]

DEFAULT_HOT = 2
DEFAULT_TICK = 0.001


class WorkerPool:
    """Runs callables in submission order on at most `size` threads, `hot` of them normally."""

    def __init__(
        self,
        size: int,
        *,
        hot: int = DEFAULT_HOT,
        tick: float = DEFAULT_TICK,
        name: str = "worker",
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.size = size
        self.hot = max(1, min(hot, size))
        self.tick = tick
        self._name = name
        self._jobs: deque[Job] = deque()
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)
        self._backlog = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._active = 0
        self._started_jobs = 0
        self._monitor: threading.Thread | None = None
        self._closed = False

    @property
    def thread_count(self) -> int:
        """Threads started so far."""
        return len(self._threads)

    def submit(self, job: Job) -> None:
        """Queue `job`; it must handle its own exceptions."""
        with self._lock:
            if self._closed:
                raise RuntimeError("worker pool is closed")
            self._jobs.append(job)
            if self._active < self.hot:
                self._activate_one()
            elif self._active < self.size:
                if self._monitor is None:
                    self._monitor = self._start_thread(self._watch_backlog, "monitor")
                self._backlog.notify()

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
        while True:
            with self._lock:
                while not jobs:
                    if self._closed:
                        self._active -= 1
                        return
                    self._active -= 1
                    self._idle += 1
                    # Whoever wakes us has already counted us active again.
                    self._work_ready.wait()
                job = jobs.popleft()
                self._started_jobs += 1
            try:
                job()
            except BaseException:
                logger.exception("a pool job raised; the thread carries on")

    def _watch_backlog(self) -> None:
        while True:
            with self._lock:
                while not self._jobs and not self._closed:
                    self._backlog.wait()
                if self._closed:
                    return
                started = self._started_jobs
            time.sleep(self.tick)
            with self._lock:
                if self._jobs and self._started_jobs == started:
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
