"""Serve the legacy WSGI app from worker processes of its own: the out-of-process mode.

`RemoteBridge` is `WSGIBridge` with the app's thread replaced by a worker process
(`cutover.wsgi.worker`, supervised by `cutover.wsgi.supervisor`), so a CPU-heavy legacy route
no longer takes the gateway's interpreter lock from the native routes. The environ is built
exactly as in-process (`build_environ`) and its string keys shipped over the worker's Unix
socket, with the body after it: small bodies in the same write, larger or chunked ones streamed
as they arrive (bounded by the socket's buffers). The response comes back frame by frame into a
`RemoteResponder`, the same state machine the in-process bridge fills from its thread, and
reaches the client through the same `deliver`: whole when it finished quickly, else streamed;
413, HTTP/1.0 and `Connection: close` handled alike.

Each worker takes at most `per_worker` requests at once (one connection each, kept for reuse);
a request finding every worker full waits in a queue bounded like the in-process one
(`queue_size`, `queue_timeout`: werkzeug's 503 with `Retry-After: 1`). While no worker is up
(starting, or restarting after a crash) requests get that 503 at once; a worker that dies with
a request in it answers werkzeug's 502 if the response had not started, and leaves it
unterminated if it had. A client that leaves closes its request's connection: the worker's next
write stops the app and closes its iterator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, cast

from starlette.types import Receive, Scope, Send

from cutover.wsgi.delivery import StreamSweep, deliver
from cutover.wsgi.environ import SERVER_SOFTWARE, Environ, build_environ
from cutover.wsgi.errors import (
    ERROR_413,
    ERROR_500,
    ERROR_502,
    HTML,
    error_start,
    send_overloaded,
)
from cutover.wsgi.input import read_head
from cutover.wsgi.responder import (
    BUFFERED_RESPONSE_LIMIT,
    DONE,
    FAILED,
    STARTED,
    STREAM_HIGH_WATER,
    WAITING,
    WSGIResponder,
)
from cutover.wsgi.start_response import check_response
from cutover.wsgi.supervisor import LegacyProcesses
from cutover.wsgi.worker import (
    BODY,
    BODY_END,
    BODY_TOO_LARGE,
    HEAD,
    HEADER,
    REQUEST,
    frame,
)
from cutover.wsgi.worker import DONE as DONE_FRAME
from cutover.wsgi.worker import FAILED as FAILED_FRAME

logger = logging.getLogger("cutover.wsgi")

OVERLOAD_WARNING_INTERVAL = 1.0
# What `RemotePool.take` answers instead of a worker's index.
FULL = -1
NONE_UP = -2
EXPIRED = -3
_HEADER_SIZE = HEADER.size
_END_OF_BODY = frame(BODY_END)


def _not_served_here(environ: Environ, start_response: Any) -> Iterable[bytes]:
    raise RuntimeError("the out-of-process bridge runs no app in the gateway")


class _Body:
    """The request body's progress, as `deliver` reads it (`cutover.wsgi.input.BodyProgress`)."""

    __slots__ = ("ended", "finished", "too_large")

    def __init__(self, finished: bool) -> None:
        self.finished = finished  # the client's body is read (or it left, or it was cut off)
        self.too_large = False
        self.ended = finished  # the worker has been told where the body ends


class _Channel(asyncio.Protocol):
    """One connection to a worker, carrying one request at a time."""

    def __init__(self, index: int, generation: int) -> None:
        self.index = index
        self.generation = generation
        self.transport: asyncio.Transport | None = None
        self.responder: RemoteResponder | None = None
        self.alive = True
        self.paused = False
        self._buffer = bytearray()
        self._writable: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        size = len(buffer)
        position = 0
        while size - position >= _HEADER_SIZE:
            kind, length = HEADER.unpack_from(buffer, position)
            end = position + _HEADER_SIZE + length
            if end > size:
                break
            payload = bytes(buffer[position + _HEADER_SIZE : end])
            position = end
            responder = self.responder
            if responder is not None:
                responder.on_frame(kind, payload)
        del buffer[:position]

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        if self.responder is not None:
            self.responder.on_lost()
        self._release_writer()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._release_writer()

    def _release_writer(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    async def drain(self) -> None:
        """Wait while the worker is behind on reading what was written."""
        if self._writable is not None:
            await self._writable

    def write(self, data: bytes) -> None:
        if self.transport is not None and self.alive:
            self.transport.write(data)

    def pause_reading(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def abort(self) -> None:
        """Drop the connection: the worker stops the app at its next write."""
        self.alive = False
        if self.transport is not None:
            self.transport.abort()


class RemoteResponder(WSGIResponder):
    """One request's state, filled by the frames of the worker running it."""

    __slots__ = ("channel", "crashed", "finished")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        environ: Environ,
        body: _Body,
        channel: _Channel,
    ) -> None:
        super().__init__(_not_served_here, loop, environ, body, _not_served_here)
        self.channel = channel
        self.crashed = False  # the worker went away before the response started
        self.finished = False  # the worker said the request is over (or went away)

    def on_frame(self, kind: bytes, payload: bytes) -> None:
        if kind == BODY:
            self.chunks.append(payload)
            self.produced += len(payload)
            if self.streaming:
                self.wake()
                if self.produced - self.consumed > STREAM_HIGH_WATER:
                    self.channel.pause_reading()
            elif self.produced > BUFFERED_RESPONSE_LIMIT:
                self.streaming = True
                self.wake()
        elif kind == HEAD:
            self._on_head(payload)
        elif kind in (DONE_FRAME, FAILED_FRAME):
            self.finished = True
            self.state = DONE if kind == DONE_FRAME and self.state is STARTED else FAILED
            self.wake()

    def _on_head(self, payload: bytes) -> None:
        status, headers = json.loads(payload)
        try:
            self.status, self.headers, self.content_length = check_response(
                status, [(name, value) for name, value in headers]
            )
        except ValueError:
            logger.exception(
                "Error handling request %s %s",
                self.environ["REQUEST_METHOD"],
                self.environ["RAW_URI"],
            )
            self.finished = True
            self.state = FAILED
            self.channel.abort()
            self.wake()
            return
        self.chunks.clear()
        self.produced = 0
        self.state = STARTED
        if self.streaming:
            self.wake()

    def on_lost(self) -> None:
        if not self.finished:
            self.finished = True
            self.crashed = self.state is WAITING and not self.cancelled
            self.state = FAILED
            self.wake()

    def cancel(self) -> None:
        super().cancel()
        if not self.finished:
            self.channel.abort()

    def release(self) -> None:
        if not self.finished:
            self.cancel()

    def mark_consumed(self, count: int) -> None:
        self.consumed += count
        if self.channel.paused and self.produced - self.consumed <= STREAM_HIGH_WATER:
            self.channel.resume_reading()


class RemotePool:
    """Which worker takes a request: the least busy one that is up, at most `per_worker` each,
    and a bounded queue while all are full. Touched from the event loop only."""

    def __init__(
        self,
        processes: LegacyProcesses,
        per_worker: int,
        *,
        max_queue: int | None,
        max_wait: float | None,
    ) -> None:
        if per_worker < 1:
            raise ValueError("each legacy worker must take at least one request at a time")
        self.processes = processes
        self.per_worker = per_worker
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.shed_count = 0
        self.expired_count = 0
        self._inflight = [0] * processes.count
        self._idle: list[list[_Channel]] = [[] for _ in range(processes.count)]
        self._waiters: deque[asyncio.Future[int]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def busy_count(self) -> int:
        """Requests a worker has now."""
        return sum(self._inflight)

    @property
    def queued_count(self) -> int:
        """Requests waiting for a worker."""
        return len(self._waiters)

    def take(self, loop: asyncio.AbstractEventLoop) -> int:
        """The index of a worker with room (counted taken), else FULL or NONE_UP."""
        if loop is not self._loop:
            self._reset(loop)
        inflight = self._inflight
        best = FULL
        least = self.per_worker
        anyone_up = False
        for slot in self.processes.slots:
            if slot.up:
                anyone_up = True
                if inflight[slot.index] < least:
                    best, least = slot.index, inflight[slot.index]
        if best >= 0:
            inflight[best] += 1
            return best
        return best if anyone_up else NONE_UP

    async def wait(self, loop: asyncio.AbstractEventLoop) -> int:
        """Queue for a worker: its index, else FULL (the queue is full) or EXPIRED."""
        if self.max_queue is not None and len(self._waiters) >= self.max_queue:
            self.shed_count += 1
            return FULL
        waiter: asyncio.Future[int] = loop.create_future()
        self._waiters.append(waiter)
        timer = None
        if self.max_wait is not None:
            timer = loop.call_later(self.max_wait, self._expire, waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result() >= 0:
                self.give_back(waiter.result(), None)
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _expire(self, waiter: asyncio.Future[int]) -> None:
        if not waiter.done():
            self._waiters.remove(waiter)
            self.expired_count += 1
            waiter.set_result(EXPIRED)

    async def connect(self, loop: asyncio.AbstractEventLoop, index: int) -> _Channel:
        """A connection to worker `index`: an idle one, or a new one."""
        slot = self.processes.slots[index]
        idle = self._idle[index]
        while idle:
            channel = idle.pop()
            if channel.alive and channel.generation == slot.generation:
                return channel
            channel.abort()
        generation = slot.generation
        _, channel = await loop.create_unix_connection(
            lambda: _Channel(index, generation), slot.socket_path
        )
        return channel

    def give_back(self, index: int, channel: _Channel | None) -> None:
        """The request on worker `index` is over; its connection is kept if still usable."""
        self._inflight[index] -= 1
        if channel is not None and channel.alive:
            self._idle[index].append(channel)
        waiters = self._waiters
        while waiters:
            taken = self.take(self._loop) if self._loop is not None else FULL
            if taken < 0:
                return
            waiter = waiters.popleft()
            if waiter.done():
                self._inflight[taken] -= 1
                continue
            waiter.set_result(taken)

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        """A new event loop (a test's, or the server's after a restart): forget the old one's."""
        self._loop = loop
        self._inflight = [0] * self.processes.count
        self._idle = [[] for _ in range(self.processes.count)]
        self._waiters = deque()


class RemoteBridge:
    """ASGI app serving a WSGI app from `processes` worker processes, as `WSGIBridge` would."""

    def __init__(
        self,
        app: str,
        *,
        processes: int = 1,
        per_worker: int = 32,
        python: str | None = None,
        nice: int = 0,
        max_body_size: int | None = None,
        trust_proxy_headers: bool = False,
        queue_size: int | None = None,
        queue_timeout: float | None = None,
        server_software: str | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.processes = LegacyProcesses(app, processes, python=python, nice=nice)
        self.pool = RemotePool(
            self.processes, per_worker, max_queue=queue_size, max_wait=queue_timeout
        )
        self.max_body_size = max_body_size
        self.trust_proxy_headers = trust_proxy_headers
        self.server_software = server_software or SERVER_SOFTWARE
        self.start_timeout = start_timeout
        self._streams = StreamSweep()
        self._next_overload_warning = 0.0

    def start(self) -> None:
        """Start the workers and wait until they accept (the lifespan calls it, in a thread)."""
        self.processes.start(self.start_timeout)

    def close(self) -> None:
        """Stop the workers; requests in them are cut off."""
        self.processes.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await self._lifespan(receive, send)
                return
            raise ValueError(f"RemoteBridge serves http scopes only, not {kind!r}")
        if not self.processes.started:
            # Served without a lifespan (a test client): the first request starts the workers.
            await asyncio.to_thread(self.start)
        loop = asyncio.get_running_loop()
        environ = build_environ(scope, self.trust_proxy_headers, self.server_software)
        body = _Body(finished=True)
        too_large = False
        first = b""
        more = False
        length_header = environ.get("CONTENT_LENGTH")
        if length_header is not None or "HTTP_TRANSFER_ENCODING" in environ:
            limit = self.max_body_size
            if limit is not None and length_header is not None and int(length_header) > limit:
                too_large = True
            else:
                first, more = await read_head(receive, limit)
                if limit is not None and len(first) > limit:
                    too_large = True
                    first, more = b"", False
                elif more:
                    body = _Body(finished=False)

        pool = self.pool
        index = pool.take(loop)
        if index == FULL:
            index = await pool.wait(loop)
        if index < 0:
            await self._refuse(send, index)
            return
        channel: _Channel | None = None
        try:
            try:
                channel = await pool.connect(loop, index)
            except OSError:
                logger.warning("cutover: legacy worker %d did not accept; answering 503", index)
                await send_overloaded(send)
                return
            await self._exchange(loop, environ, body, first, too_large, channel, receive, send)
        finally:
            pool.give_back(index, channel)

    async def _exchange(
        self,
        loop: asyncio.AbstractEventLoop,
        environ: Environ,
        body: _Body,
        first: bytes,
        too_large: bool,
        channel: _Channel,
        receive: Receive,
        send: Send,
    ) -> None:
        shipped = {key: value for key, value in environ.items() if type(value) is str}
        request = frame(REQUEST, json.dumps([shipped, too_large]).encode())
        if first:
            request += frame(BODY, first)
        responder = RemoteResponder(loop, environ, body, channel)
        responder.close_connection = too_large
        channel.responder = responder
        pump: asyncio.Task[None] | None = None
        if body.ended:
            channel.write(request + _END_OF_BODY)
        else:
            channel.write(request)
            pump = loop.create_task(self._pump(responder, body, len(first), receive))
        self._streams.track(loop, responder)
        try:
            refused = await deliver(responder, receive, send)
        finally:
            self._streams.forget(responder)
            responder.release()
            if pump is not None and not pump.done():
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            if not body.ended and channel.alive:
                channel.write(_END_OF_BODY)
            channel.responder = None
            if not responder.finished:
                channel.abort()
        if refused == 500:
            page = ERROR_502 if responder.crashed else ERROR_500
            if responder.crashed:
                logger.error(
                    "cutover: the legacy worker serving %s %s went away; answering 502",
                    environ["REQUEST_METHOD"],
                    environ["RAW_URI"],
                )
            await send(error_start(502 if responder.crashed else 500, page, _content_type(page)))
            await send({"type": "http.response.body", "body": page})
        elif refused == 413:
            await send(error_start(413, ERROR_413, HTML))
            await send({"type": "http.response.body", "body": ERROR_413})
        elif refused == 503:
            await send_overloaded(send)

    async def _pump(
        self, responder: RemoteResponder, body: _Body, received: int, receive: Receive
    ) -> None:
        """Stream the rest of the request body to the worker as it arrives."""
        channel = responder.channel
        limit = self.max_body_size
        while True:
            message = await receive()
            if message["type"] != "http.request":
                body.finished = True
                responder.cancel()
                return
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if limit is not None and received > limit:
                body.finished = body.ended = body.too_large = True
                channel.write(frame(BODY_TOO_LARGE))
                return
            if not message.get("more_body", False):
                body.finished = body.ended = True
                channel.write(frame(BODY, chunk) + _END_OF_BODY)
                return
            channel.write(frame(BODY, chunk))
            await channel.drain()

    async def _refuse(self, send: Send, reason: int) -> None:
        now = time.monotonic()
        if now >= self._next_overload_warning:
            self._next_overload_warning = now + OVERLOAD_WARNING_INTERVAL
            pool = self.pool
            if reason == NONE_UP:
                logger.warning("cutover: no legacy worker is up, answering 503")
            else:
                logger.warning(
                    "cutover: legacy workers overloaded, answering 503: %d shed (queue of %s "
                    "full), %d expired (waited %s s) since start",
                    pool.shed_count,
                    pool.max_queue,
                    pool.expired_count,
                    pool.max_wait,
                )
        await send_overloaded(send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await asyncio.to_thread(self.start)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _content_type(page: bytes) -> bytes:
    return b"text/html" if page is ERROR_500 else HTML
