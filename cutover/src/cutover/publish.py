"""What a gateway process learns in memory (traffic, shadow evidence) reaches the shared database
here: every few seconds each registered collector runs on the event loop, where the numbers are
kept without locks, and hands back the blocking write, which then runs in a worker thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import anyio.to_thread

logger = logging.getLogger("cutover")

Write = Callable[[], None]
Collector = Callable[[], "Write | None"]
"""Runs on the event loop: takes what is new since the last call, returns the write (or None)."""


class Publisher:
    """One background task per process that runs `collectors` every `interval` seconds.

    A failed write is logged and its numbers are lost, never retried into a growing backlog;
    `flush` runs every collector once now (for shutdown and tests).
    """

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self._collectors: list[tuple[str, Collector]] = []
        self._task: asyncio.Task[None] | None = None
        self._failing: set[str] = set()

    def add(self, name: str, collector: Collector) -> None:
        """Run `collector` on every round; `name` is what the log says when its write fails."""
        self._collectors.append((name, collector))

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the task on the running loop (once; nothing to do without collectors)."""
        if self._collectors and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the task, then publish what is still in memory once."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self.flush()

    async def flush(self) -> None:
        """Collect from every collector now and wait for the writes."""
        for name, collector in self._collectors:
            try:
                write = collector()
                if write is not None:
                    await anyio.to_thread.run_sync(write)
            except Exception as exc:
                self._failed(name, exc)
            else:
                if name in self._failing:
                    self._failing.discard(name)
                    logger.info("cutover: publishing %s works again", name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    def _failed(self, name: str, exc: Exception) -> None:
        # Logged once per outage, not every round: an unreachable database must not flood logs.
        if name not in self._failing:
            self._failing.add(name)
            logger.warning("cutover: could not publish %s (%s: %s)", name, type(exc).__name__, exc)
