"""Sync endpoints run as one job on a pool that keeps few threads hot, closing their session.

FastAPI gives a sync endpoint, its response validation and each sync dependency's enter and exit
a hop each on anyio's thread pool, where every waiting request wakes a thread of its own; under
the GIL those threads compete with the event loop. A DB read took four hops and served half the
requests per second of the same Flask view behind the gateway, whose bridge makes one hop to a
pool keeping two threads hot (`cutover.worker_pool`). `PooledRoute` does the same for the ports:
the endpoint runs on the app's pool, the request's session is closed in the same job (so its
connection is back in the engine's pool and a detached instance cannot lazy-load on the loop),
and the response is validated and rendered on the loop, which does no I/O for it.
"""

import asyncio
import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import anyio
from fastapi import Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from cutover.worker_pool import WorkerPool

T = TypeVar("T")

# As many as anyio's default limiter allowed the same endpoints before.
ENDPOINT_THREADS = 40
# The pool comes from a `Request` parameter, which costs FastAPI less than a dependency; it can
# fill one such parameter only, so the endpoint's own is used when it has one.
REQUEST_ARGUMENT = "cutover_request"


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

    pool.submit(job)
    with anyio.CancelScope(shield=True):  # the job may still be using the request's session
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


def _call_and_close_sessions(endpoint: Callable[..., T], arguments: dict[str, Any]) -> T:
    try:
        return endpoint(**arguments)
    finally:
        for value in arguments.values():
            if isinstance(value, Session):
                value.close()


def pooled(endpoint: Callable[..., T]) -> Callable[..., Coroutine[Any, Any, T]]:
    """`endpoint` as an async endpoint running it on the app's pool, with the same parameters."""
    signature = inspect.signature(endpoint)
    parameters = list(signature.parameters.values())
    own = [parameter.name for parameter in parameters if parameter.annotation is Request]
    request_name = own[0] if own else REQUEST_ARGUMENT
    if not own:
        if REQUEST_ARGUMENT in signature.parameters:
            raise TypeError(f"{endpoint.__qualname__} has a parameter named {REQUEST_ARGUMENT}")
        parameters.append(
            inspect.Parameter(REQUEST_ARGUMENT, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        )

    @functools.wraps(endpoint)
    async def run_pooled(**arguments: Any) -> T:
        request: Request = arguments[request_name] if own else arguments.pop(REQUEST_ARGUMENT)
        pool: WorkerPool = request.app.state.worker_pool
        return await run_in_pool(
            pool, functools.partial(_call_and_close_sessions, endpoint, arguments)
        )

    # FastAPI reads the parameters from here; `functools.wraps` kept the name and docstring.
    run_pooled.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return run_pooled


class PooledRoute(APIRoute):
    """A route whose sync endpoint runs through `pooled`; async and generator ones are kept."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not (
            inspect.iscoroutinefunction(endpoint)
            or inspect.isgeneratorfunction(endpoint)
            or inspect.isasyncgenfunction(endpoint)
        ):
            endpoint = pooled(endpoint)
        super().__init__(path, endpoint, **kwargs)
