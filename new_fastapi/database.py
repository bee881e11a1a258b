"""Database work in one hop: a unit of work runs on the endpoint pool with its own session.

An endpoint is `async def`; it does its non-I/O checks on the event loop, then awaits
`db.run(work, ...)` once. `work(session, ...)` is a plain sync function (`new_fastapi.crud`)
that runs as one job on a pool thread: the session is opened there, used for everything the
request needs (authentication included), and closed there before the job ends. So a request
never holds a pooled connection while it waits for a thread, and with at most as many threads
as the engine has connections no thread waits for a connection either (README: sizing).

The pool (`cutover.wsgi.WorkerPool`) keeps few threads hot, sheds work once its queue is
full and expires work that waited too long; both answer 503 with `Retry-After`.

`db.read(work, ...)` is the same hop for a read of Core rows (`new_fastapi.reads`): `work`
gets a bare connection of the engine, no Session, returned to the engine's pool in the job.
"""

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from cutover.compat import ApiError
from cutover.wsgi import WorkerPool

P = ParamSpec("P")
T = TypeVar("T")

RETRY_AFTER_SECONDS = 1
BUSY_MESSAGE = "Server busy, try again shortly"


def overloaded() -> ApiError:
    """The answer for work the pool shed or expired: retry shortly."""
    return ApiError(503, BUSY_MESSAGE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class Database:
    """Runs units of work on `pool`, each with a session of its own from `make_session`."""

    def __init__(self, make_session: sessionmaker[Session], pool: WorkerPool) -> None:
        self.make_session = make_session
        self.pool = pool
        self._engine: Engine = make_session.kw["bind"]

    async def read(
        self, work: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work(connection, *args, **kwargs)` in one pool job, on a connection of the session's
        engine (no Session: a read of Core rows needs none), returned to the pool in the job."""
        engine = self._engine

        def unit_of_work() -> T:
            with engine.connect() as connection:
                return work(connection, *args, **kwargs)

        return await run_in_pool(self.pool, unit_of_work)

    async def run(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work(session, *args, **kwargs)` in one pool job; the session is closed in the job."""
        make_session = self.make_session

        def unit_of_work() -> T:
            with make_session() as session:
                return work(session, *args, **kwargs)

        return await run_in_pool(self.pool, unit_of_work)


async def run_in_pool(pool: WorkerPool, function: Callable[[], T]) -> T:
    """`function()` on `pool`, in this context; like anyio's, not abandoned when cancelled."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def job() -> None:
        try:
            result = context.run(function)
        except BaseException as exc:
            _call_soon(loop, _set_exception, outcome, exc)
        else:
            _call_soon(loop, _set_result, outcome, result)

    def expired() -> None:
        _call_soon(loop, _set_exception, outcome, overloaded())

    if not pool.submit(job, expired):
        raise overloaded()
    with anyio.CancelScope(shield=True):  # the job may still be using its session
        result = await outcome
    return result


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        loop.call_soon_threadsafe(callback, *args)


def _set_result(outcome: "asyncio.Future[T]", result: T) -> None:
    if not outcome.done():
        outcome.set_result(result)


def _set_exception(outcome: "asyncio.Future[Any]", exc: BaseException) -> None:
    if not outcome.done():
        outcome.set_exception(exc)
