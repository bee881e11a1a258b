"""Shadow traffic, after the client has its answer: the other side is replayed the same request
(marked `X-Cutover-Shadow: 1`) from a bounded queue by a few background tasks, under a timeout,
and the two answers are compared off the event loop; on a sample the answering side is run twice,
so fields that differ between two runs of one side are learned as noise, never mismatches."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, TypeVar

import anyio.to_thread
from starlette.types import ASGIApp, Message, Scope

from cutover.shadow.answer import Answer
from cutover.shadow.compare import DEFAULT_RULES, CompareRules, Comparison, compare, noise_paths
from cutover.shadow.exemplar import Exemplar

logger = logging.getLogger("cutover.shadow")

SHADOW_HEADER = (b"x-cutover-shadow", b"1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_EXEMPLARS = 3
# Comparing two answers costs ~90 ms of CPU per MB when their bytes differ (bench/README.md):
# larger ones are served but not compared unless a team raises the limit.
DEFAULT_MAX_ANSWER = 256 << 10
INLINE_COMPARE_BYTES = 16 << 10  # both bodies together; larger ones are compared in a thread
_T = TypeVar("_T")


@dataclass(slots=True)
class ShadowCounts:
    """What happened to one route's shadowed requests (README: "Shadow traffic")."""

    compared: int = 0
    matched: int = 0
    mismatched: int = 0
    noise_only: int = 0
    candidate_error: int = 0
    timeout: int = 0
    dropped: int = 0
    not_shadowed: int = 0
    noise_runs: int = 0  # times the answering side was run twice to learn noise


@dataclass(slots=True)
class MismatchGroup:
    """Mismatches of one route with the same shape: how many, and a few of the latest in full
    until the evidence writer takes them (`pending`, at most MAX_EXEMPLARS)."""

    shape: tuple[str, ...]
    count: int = 0
    pending: list[Exemplar] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ShadowJob:
    """One answered request to replay: its scope, body and the answer the client got."""

    route: str
    scope: Scope
    body: bytes
    primary: Answer
    primary_app: ASGIApp
    candidate_app: ASGIApp


class ShadowRunner:
    """A bounded queue of shadow jobs drained by `concurrency` tasks on the server's loop."""

    def __init__(
        self,
        *,
        concurrency: int = 4,
        queue_size: int = 256,
        timeout: float = 2.0,
        sample_rate: float = 1.0,
        sample_rates: Mapping[str, float] | None = None,
        noise_rate: float = 0.1,
        max_body_size: int = 64 << 10,
        max_answer_size: int = DEFAULT_MAX_ANSWER,
        rules: Mapping[str, CompareRules] | None = None,
        methods: Mapping[str, Iterable[str]] | None = None,
        budget: float = 1.0,
    ) -> None:
        self.concurrency = concurrency
        # The share of each second the shadow's own work may take (replays, comparisons, noise
        # runs, by the clock): past it, requests are served unshadowed and counted dropped.
        self.budget = budget
        self.budget_window = 1.0  # seconds over which the share is measured
        self._spent = 0.0
        self._window = perf_counter()
        self.timeout = timeout
        self.sample_rate = sample_rate
        self.sample_rates = dict(sample_rates or {})  # per route, over sample_rate
        self.noise_rate = noise_rate
        self.max_body_size = max_body_size  # a larger request body is not shadowed
        self.max_answer_size = max_answer_size  # a larger answer is not kept to compare
        self.rules = dict(rules or {})
        # Per route, instead of the safe ones: e.g. a read-only POST /search.
        self.methods = {
            route: frozenset(method.upper() for method in names)
            for route, names in (methods or {}).items()
        }
        self.counts: dict[str, ShadowCounts] = {}
        self.groups: dict[tuple[str, tuple[str, ...]], MismatchGroup] = {}
        self.noise: dict[str, dict[str, int]] = {}  # route -> path -> times seen differing
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(queue_size)
        self._workers: set[asyncio.Task[None]] = set()
        # Workers still draining; a task's done callback runs a loop turn after its last look
        # at the queue, so `_workers` alone would miss a job queued in that turn.
        self._draining = 0
        self._random = random.Random()

    def _count(self, route: str) -> ShadowCounts:
        counts = self.counts.get(route)
        if counts is None:
            counts = self.counts.setdefault(route, ShadowCounts())
        return counts

    def wants(self, route: str, method: str) -> bool:
        """Whether to shadow this request: a safe method for the route, and in the sample."""
        if method not in self.methods.get(route, SAFE_METHODS):
            self._count(route).not_shadowed += 1
            return False
        rate = self.sample_rates.get(route, self.sample_rate)
        if rate < 1 and self._random.random() >= rate:
            return False
        if self.budget < 1 and self._over_budget():
            self._count(route).dropped += 1
            return False
        if self._queue.full():
            # Dropped before its answer is recorded: a request the shadow cannot take costs
            # what it would cost unshadowed.
            self._count(route).dropped += 1
            return False
        return True

    def refuse(self, route: str) -> None:
        """Count a request not shadowed (its body or answer was too large to keep)."""
        self._count(route).not_shadowed += 1

    def submit(self, job: ShadowJob) -> bool:
        """Queue a job without waiting; a full queue drops it (counted), never grows. Workers
        start as jobs arrive (at most `concurrency`) and end when the queue is empty."""
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self._count(job.route).dropped += 1
            return False
        if self._draining < self.concurrency:
            self._draining += 1
            worker = asyncio.get_running_loop().create_task(self._drain())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        return True

    async def join(self) -> None:
        """Wait until every queued job is done (for tests and shutdown)."""
        await self._queue.join()

    async def stop(self) -> None:
        """Cancel the workers; queued jobs are dropped."""
        workers = list(self._workers)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._draining = 0

    async def _drain(self) -> None:
        try:
            while not self._queue.empty():
                job = self._queue.get_nowait()
                try:
                    await self._run(job)
                except Exception:
                    logger.exception("cutover: shadow job for %s failed", job.route)
                finally:
                    self._queue.task_done()
        finally:
            self._draining -= 1

    def _over_budget(self) -> bool:
        now = perf_counter()
        if now - self._window >= self.budget_window:
            self._window, self._spent = now, 0.0
        return self._spent >= self.budget * self.budget_window

    async def _run(self, job: ShadowJob) -> None:
        started = perf_counter()
        try:
            await self._compare(job)
        finally:
            self._spent += perf_counter() - started

    async def _compare(self, job: ShadowJob) -> None:
        counts = self._count(job.route)
        try:
            candidate = await asyncio.wait_for(
                replay(job.candidate_app, job.scope, job.body), self.timeout
            )
        except TimeoutError:
            counts.timeout += 1
            return
        except Exception as exc:
            counts.candidate_error += 1
            logger.info("cutover: shadow candidate of %s raised %s", job.route, type(exc).__name__)
            return
        rules = self.rules.get(job.route, DEFAULT_RULES)
        if self._random.random() < self.noise_rate:
            await self._learn_noise(job, rules)
        comparison = await _off_loop_if_large(compare, job.primary, candidate, rules)
        counts.compared += 1
        if comparison.matched:
            counts.matched += 1
            return
        noise = self.noise.get(job.route, {})
        if comparison.paths and all(path in noise for path in comparison.paths):
            counts.noise_only += 1
            return
        counts.mismatched += 1
        group = self.groups.get((job.route, comparison.shape))
        if group is None:
            group = self.groups.setdefault(
                (job.route, comparison.shape), MismatchGroup(comparison.shape)
            )
        group.count += 1
        if len(group.pending) < MAX_EXEMPLARS:
            group.pending.append(_exemplar(job, candidate, comparison))

    async def _learn_noise(self, job: ShadowJob, rules: CompareRules) -> None:
        try:
            again = await asyncio.wait_for(
                replay(job.primary_app, job.scope, job.body), self.timeout
            )
        except Exception:  # a second run that fails teaches nothing
            return
        self._count(job.route).noise_runs += 1
        paths = await _off_loop_if_large(noise_paths, job.primary, again, rules)
        seen = self.noise.setdefault(job.route, {})
        for path in paths:
            seen[path] = seen.get(path, 0) + 1


async def _off_loop_if_large(
    function: Callable[[Answer, Answer, CompareRules], _T],
    first: Answer,
    second: Answer,
    rules: CompareRules,
) -> _T:
    """Compare small answers on the loop (microseconds, less than a hop to a thread costs) and
    large ones in a worker thread, so the loop never stalls on a big body."""
    if len(first.body) + len(second.body) <= INLINE_COMPARE_BYTES:
        return function(first, second, rules)
    return await anyio.to_thread.run_sync(function, first, second, rules)


def _exemplar(job: ShadowJob, candidate: Answer, comparison: Comparison) -> Exemplar:
    scope = job.scope
    return Exemplar(
        job.route,
        datetime.now(UTC),
        scope["method"],
        scope["path"],
        scope.get("query_string", b""),
        scope["headers"],
        job.body,
        job.primary,
        candidate,
        comparison,
    )


async def replay(app: ASGIApp, scope: Scope, body: bytes) -> Answer:
    """Run `app` on a copy of the request and record its whole answer."""
    messages: list[Message] = []
    delivered = False
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    shadow_scope = {**scope, "headers": [*scope["headers"], SHADOW_HEADER]}
    try:
        await app(shadow_scope, receive, send)
    finally:
        finished.set()
    return Answer.from_asgi(messages)


def as_dict(counts: ShadowCounts) -> dict[str, Any]:
    """The counts as a JSON-ready dict."""
    return {name: getattr(counts, name) for name in ShadowCounts.__slots__}
