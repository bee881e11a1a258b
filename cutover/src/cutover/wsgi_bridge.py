"""Serve a WSGI app from ASGI the way gunicorn would, buffered in one hop and streamed when needed.

A request is read on the event loop (small bodies whole; larger or chunked ones are pulled by
the app's thread as it reads `wsgi.input`, so uploads hold bounded memory), handed to a worker
thread in one hop, and the thread runs the app and iterates its response. A response that ends
quickly and is small goes out as one start message and one body message. One that outgrows
`BUFFERED_RESPONSE_LIMIT`, or is still running one to two `STREAM_TICK`s after it began,
switches to streaming: each chunk is sent as it is produced, and the thread pauses while more
than `STREAM_HIGH_WATER` bytes wait for the client, so downloads hold bounded memory too. A
client that leaves during a streamed response stops the iteration and the iterator is closed.

DEFAULT_THREADS = 32 is the ceiling for handlers running at once, as gunicorn gthread's
`--threads`. It costs nothing while unused: the pool (see `cutover.worker_pool`) keeps two
threads hot and wakes more only when those are blocked. Measured with 30 concurrent one-second
handlers: a2wsgi's default 10 threads took 3.0 s, gunicorn gthread with 32 threads 1.05 s, this
bridge 1.08 s. On a tiny JSON route, 32 threads with 2 hot ran as fast as a fixed pool of 2,
about 1.3x a pool that wakes a thread per request, whose p99 was higher (16 ms against 10 ms).

freeze_startup_heap: the p99 left after that came from full garbage collections, which walk
every object the app and its imports created at startup, while requests wait. The first
request moves that heap out of the collector's reach (`gc.freeze()`, once): p99 on the tiny
JSON route fell from 17-25 ms to 6 ms at the same throughput. The cost is that cyclic garbage
created before the first request is never freed.

Limits, each answered in the legacy app's own format: a body over `max_body_size` (default
`DEFAULT_MAX_BODY`, 10 MiB) is refused by its Content-Length before it is read, or once the bytes
counted while it streams pass the limit, with the app's 413 (a Flask app's own handler, else
werkzeug's page) and a closed connection. A request finding `queue_size` requests already
waiting for a thread, or waiting `queue_timeout` seconds without one, is answered werkzeug's 503
page with `Retry-After: 1` and never runs. A status or header the app gives that HTTP cannot carry
(CR, LF, NUL, a name that is not a token) fails the request in `start_response`, before anything
is sent: the client gets the bridge's 500, as from gunicorn, and the error is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import RequestEntityTooLarge, ServiceUnavailable

from cutover.environ import SERVER_SOFTWARE, Environ, build_environ
from cutover.worker_pool import WorkerPool

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import WSGIApplication as WSGIApp
else:
    WSGIApp = Callable[..., Iterable[bytes]]


DEFAULT_THREADS = 32
DEFAULT_MAX_BODY: int | None = 10 * 1024 * 1024
# A burst the threads clear within seconds waits its turn, as it would in gunicorn's backlog;
# a backlog deeper than this, or a wait longer than this, is overload and answered 503.
DEFAULT_QUEUE_SIZE: int | None = 1024
DEFAULT_QUEUE_TIMEOUT: float | None = 10.0
OVERLOAD_WARNING_INTERVAL = 1.0
BUFFERED_BODY_LIMIT = 1024 * 1024
BUFFERED_RESPONSE_LIMIT = 1024 * 1024
STREAM_HIGH_WATER = 1024 * 1024
STREAM_TICK = 0.01

HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    )
)
NO_BODY_STATUSES = frozenset((204, 304))
ERROR_500 = (
    b"<html>\n  <head>\n    <title>Internal Server Error</title>\n  </head>\n  <body>\n"
    b"    <h1><p>Internal Server Error</p></h1>\n    \n  </body>\n</html>\n"
)
ERROR_503 = ServiceUnavailable().get_body().encode()
ERROR_413 = RequestEntityTooLarge().get_body().encode()
HTML = b"text/html; charset=utf-8"
CLOSE = (b"Connection", b"close")

# What gunicorn accepts from start_response (RFC 9110 5.1, 5.5, 5.6.2), within what uvicorn sends.
STATUS_RE = re.compile(r"[1-5][0-9]{2}(?: [ \t\x21-\x7e\x80-\xff]*)?")
TOKEN_RE = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
FIELD_VALUE_RE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")
_CACHE_LIMIT = 1024
# What start_response already accepted, so the common case is one lookup and no regex.
_valid_names: set[str] = set()
_status_codes: dict[str, int] = {}

logger = logging.getLogger(__name__)


class BodyTooLarge(RequestEntityTooLarge, OSError):
    """Raised from `wsgi.input` when a streamed body crosses the limit; Flask answers it as 413."""


class ClientGone(Exception):
    """Raised in the app's thread to stop iterating once the client has disconnected."""


async def _next(receive: Receive) -> Message:
    return await receive()


class StreamedInput(io.RawIOBase):
    """`wsgi.input` for a body too large to buffer: the app's thread pulls it from the loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        receive: Receive,
        head: bytes,
        limit: int | None,
    ) -> None:
        super().__init__()
        self._loop = loop
        self._receive = receive
        self._buffer = bytearray(head)
        self._received = len(head)
        self._limit = limit
        self.finished = False
        self.too_large = False

    def readable(self) -> bool:
        return True

    def _pull(self) -> bool:
        if self.finished:
            return False
        message = asyncio.run_coroutine_threadsafe(_next(self._receive), self._loop).result()
        if message["type"] != "http.request":
            self.finished = True
            raise ClientGone("client disconnected while sending the body")
        chunk: bytes = message.get("body", b"")
        self._received += len(chunk)
        if self._limit is not None and self._received > self._limit:
            self.finished = True
            self.too_large = True
            raise BodyTooLarge
        self._buffer += chunk
        if not message.get("more_body", False):
            self.finished = True
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._pull():
                pass
            data = bytes(self._buffer)
            self._buffer = bytearray()
            return data
        while len(self._buffer) < size and self._pull():
            pass
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end >= 0:
                end += 1
                break
            if size is not None and 0 <= size <= len(self._buffer):
                end = size
                break
            start = len(self._buffer)
            if not self._pull():
                end = len(self._buffer)
                break
        if size is not None and 0 <= size < end:
            end = size
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data


class Exchange:
    """One request's state, shared by its event-loop coroutine and its worker thread."""

    __slots__ = (
        "app",
        "body_input",
        "cancelled",
        "chunks",
        "close_connection",
        "consumed",
        "content_length",
        "done",
        "drained",
        "environ",
        "error",
        "expired",
        "headers",
        "headers_sent",
        "loop",
        "produced",
        "status",
        "streaming",
        "too_large_app",
        "waiter",
    )

    def __init__(
        self,
        app: WSGIApp,
        loop: asyncio.AbstractEventLoop,
        environ: Environ,
        body_input: StreamedInput | None,
        too_large_app: WSGIApp,
    ) -> None:
        self.app = app
        self.loop = loop
        self.environ = environ
        self.body_input = body_input
        self.too_large_app = too_large_app
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.content_length: int | None = None
        self.chunks: deque[bytes] = deque()
        self.produced = 0
        self.consumed = 0
        self.done = False
        self.streaming = False
        self.cancelled = False
        self.headers_sent = False
        self.error = False
        self.expired = False
        self.close_connection = False
        self.drained: threading.Event | None = None
        self.waiter: asyncio.Future[None] = loop.create_future()

    # --- worker thread side -------------------------------------------------------------

    def run(self) -> None:
        """Run the app and iterate its response; called on a pool thread."""
        try:
            self._respond(self.app, quiet_if_too_large=True)
            body_input = self.body_input
            if body_input is not None and body_input.too_large:
                self.close_connection = True
                if self.status != 413 and not self.headers_sent:
                    # The app did not answer the oversized body with a 413: answer as it would.
                    self.error = False
                    self.status = None
                    self.content_length = None
                    self.chunks.clear()
                    self.produced = 0
                    self._respond(self.too_large_app, quiet_if_too_large=False)
        finally:
            self.done = True
            self._wake_loop()

    def _respond(self, app: WSGIApp, *, quiet_if_too_large: bool) -> None:
        app_iter: Iterable[bytes] | None = None
        try:
            app_iter = app(self.environ, self.start_response)
            for chunk in app_iter:
                if chunk:
                    self.write(chunk)
                elif self.cancelled:
                    raise ClientGone
        except ClientGone:
            pass
        except Exception:
            body_input = self.body_input
            if not (quiet_if_too_large and body_input is not None and body_input.too_large):
                logger.exception(
                    "Error handling request %s %s",
                    self.environ["REQUEST_METHOD"],
                    self.environ["RAW_URI"],
                )
            self.error = True
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logger.exception("Error closing the response iterator")

    def expire(self) -> None:
        """The pool dropped this request unstarted; called on a pool thread."""
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self.loop.call_soon_threadsafe(self._expired)

    def _expired(self) -> None:
        self.expired = True
        self.wake()

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None, /
    ) -> Callable[[bytes], object]:
        """PEP 3333 start_response: checked as gunicorn does, converted to bytes here, once."""
        if exc_info is not None and exc_info[1] is not None:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("Response headers already set")
        code = _status_codes.get(status)
        if code is None:
            code = _status_code(status)
        converted: list[tuple[bytes, bytes]] = []
        content_length = None
        for name, value in headers:
            if name not in _valid_names:
                _check_name(name)
            if not value.isprintable() and not FIELD_VALUE_RE.fullmatch(value):
                # The name only: the value may carry a secret.
                raise ValueError(f"invalid value for response header {name!r}")
            lower = name.lower()
            if lower in HOP_BY_HOP:
                continue
            value = value.strip(" \t")
            if lower == "content-length":
                content_length = int(value)
            converted.append((name.encode("latin-1"), value.encode("latin-1")))
        self.headers = converted
        self.content_length = content_length
        self.status = code
        self.chunks.clear()
        self.produced = 0
        return self.write

    def write(self, chunk: bytes) -> None:
        """Queue a body chunk; while streaming, wait if the client is too far behind."""
        if self.cancelled:
            raise ClientGone
        self.chunks.append(chunk)
        self.produced += len(chunk)
        if self.streaming:
            self._wake_loop()
            if self.produced - self.consumed > STREAM_HIGH_WATER:
                self._wait_for_client()
        elif self.produced > BUFFERED_RESPONSE_LIMIT:
            self.streaming = True
            self._wake_loop()

    def _wait_for_client(self) -> None:
        if self.drained is None:
            self.drained = threading.Event()
        drained = self.drained
        while self.produced - self.consumed > STREAM_HIGH_WATER:
            drained.clear()
            if self.cancelled:
                raise ClientGone
            if self.produced - self.consumed <= STREAM_HIGH_WATER:
                break
            drained.wait(1.0)
        if self.cancelled:
            raise ClientGone

    def _wake_loop(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.wake)
        except RuntimeError:
            self.cancelled = True

    # --- event loop side ----------------------------------------------------------------

    def wake(self) -> None:
        """Resume the coroutine waiting on this exchange."""
        if not self.waiter.done():
            self.waiter.set_result(None)

    def cancel(self) -> None:
        """Tell the app's thread the client is gone."""
        self.cancelled = True
        if self.drained is not None:
            self.drained.set()
        self.wake()

    def mark_consumed(self, count: int) -> None:
        """Record bytes handed to the server, releasing a thread held by backpressure."""
        self.consumed += count
        drained = self.drained
        if drained is not None and self.produced - self.consumed <= STREAM_HIGH_WATER:
            drained.set()

    def take_chunks(self) -> bytes:
        """Everything produced so far, as one bytes object."""
        chunks = self.chunks
        if len(chunks) == 1:
            return chunks.popleft()
        parts = []
        while chunks:
            parts.append(chunks.popleft())
        return b"".join(parts)


def _check_name(name: str) -> None:
    if not (isinstance(name, str) and TOKEN_RE.fullmatch(name)):
        raise ValueError(f"invalid response header name {name!r}")
    if len(_valid_names) < _CACHE_LIMIT:
        _valid_names.add(name)


def _status_code(status: str) -> int:
    if not (isinstance(status, str) and STATUS_RE.fullmatch(status)):
        raise ValueError(f"invalid status {status!r}")
    code = int(status[:3])
    if len(_status_codes) < _CACHE_LIMIT:
        _status_codes[status] = code
    return code


def _error_start(status: int, body: bytes, content_type: bytes) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"Connection", b"close"),
            (b"Content-Type", content_type),
            (b"Content-Length", str(len(body)).encode()),
        ],
    }


def too_large_responder(app: WSGIApp) -> WSGIApp:
    """The WSGI app answering 413 as `app` would: a Flask app's own 413 handler, else werkzeug's."""
    request_context = getattr(app, "request_context", None)
    handle_http_exception = getattr(app, "handle_http_exception", None)
    make_response = getattr(app, "make_response", None)
    if request_context is None or handle_http_exception is None or make_response is None:
        return _werkzeug_too_large

    def flask_too_large(environ: Environ, start_response: Any) -> Iterable[bytes]:
        with request_context(environ):
            response = make_response(handle_http_exception(RequestEntityTooLarge()))
            body: Iterable[bytes] = response(environ, start_response)
            return body

    return flask_too_large


def _werkzeug_too_large(environ: Environ, start_response: Any) -> Iterable[bytes]:
    return RequestEntityTooLarge()(environ, start_response)


class WSGIBridge:
    """ASGI app that serves a WSGI app the way gunicorn would."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        threads: int = DEFAULT_THREADS,
        max_body_size: int | None = DEFAULT_MAX_BODY,
        trust_proxy_headers: bool = False,
        freeze_startup_heap: bool = True,
        queue_size: int | None = DEFAULT_QUEUE_SIZE,
        queue_timeout: float | None = DEFAULT_QUEUE_TIMEOUT,
        server_software: str | None = None,
    ) -> None:
        self.app = app
        self._too_large_app = too_large_responder(app)
        self._freeze_pending = freeze_startup_heap
        self.max_body_size = max_body_size
        self.trust_proxy_headers = trust_proxy_headers
        self.server_software = server_software or SERVER_SOFTWARE
        self.pool = WorkerPool(
            threads, name="cutover-wsgi", max_queue=queue_size, max_wait=queue_timeout
        )
        self._next_overload_warning = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: dict[Exchange, bool] = {}
        self._sweeping = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await self._lifespan(receive, send)
                return
            raise ValueError(f"WSGIBridge serves http scopes only, not {kind!r}")
        if self._freeze_pending:
            self._freeze_pending = False
            gc.freeze()
        loop = asyncio.get_running_loop()
        environ = build_environ(scope, self.trust_proxy_headers, self.server_software)
        app = self.app
        body_input: StreamedInput | None = None
        too_large = False
        length_header = environ.get("CONTENT_LENGTH")
        if length_header is None and "HTTP_TRANSFER_ENCODING" not in environ:
            environ["wsgi.input"] = io.BytesIO()
        else:
            limit = self.max_body_size
            if limit is not None and length_header is not None and int(length_header) > limit:
                too_large = True
            else:
                head, more = await self._read_head(receive, limit)
                if limit is not None and len(head) > limit:
                    too_large = True
                elif more:
                    body_input = StreamedInput(loop, receive, head, limit)
                    environ["wsgi.input"] = body_input
                else:
                    environ["wsgi.input"] = io.BytesIO(head)
            if too_large:
                environ["wsgi.input"] = io.BytesIO()
                app = self._too_large_app

        exchange = Exchange(app, loop, environ, body_input, self._too_large_app)
        exchange.close_connection = too_large
        if not self.pool.submit(exchange.run, exchange.expire):
            await self._send_503(send)
            return
        self._track(loop, exchange)
        try:
            await exchange.waiter
            if exchange.expired:
                await self._send_503(send)
            elif exchange.done:
                await self._send_whole(exchange, send)
            else:
                await self._stream(exchange, receive, send)
        finally:
            self._inflight.pop(exchange, None)
            if not exchange.done:
                exchange.cancel()

    async def _read_head(self, receive: Receive, limit: int | None) -> tuple[bytes, bool]:
        """Read up to BUFFERED_BODY_LIMIT of the body; True means more is still to come."""
        if limit is None or limit > BUFFERED_BODY_LIMIT:
            limit = BUFFERED_BODY_LIMIT
        message = await receive()
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if not more or message["type"] != "http.request":
            return body, False
        parts = [body]
        size = len(body)
        while more and size <= limit:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            parts.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        return b"".join(parts), more

    async def _send_413(self, send: Send) -> None:
        """werkzeug's 413 page, when the app's own answer to an oversized body came too late."""
        await send(_error_start(413, ERROR_413, HTML))
        await send({"type": "http.response.body", "body": ERROR_413})

    async def _send_503(self, send: Send) -> None:
        """The legacy queue is full, or this request waited too long in it."""
        now = time.monotonic()
        if now >= self._next_overload_warning:
            self._next_overload_warning = now + OVERLOAD_WARNING_INTERVAL
            pool = self.pool
            logger.warning(
                "cutover: legacy app overloaded, answering 503: %d shed (queue of %s full), "
                "%d expired (waited %s s) since start",
                pool.shed_count,
                pool.max_queue,
                pool.expired_count,
                pool.max_wait,
            )
        headers = [
            (b"Content-Type", HTML),
            (b"Content-Length", str(len(ERROR_503)).encode()),
            (b"Retry-After", b"1"),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": ERROR_503})

    async def _send_whole(self, exchange: Exchange, send: Send) -> None:
        if exchange.error or exchange.status is None:
            await send(_error_start(500, ERROR_500, b"text/html"))
            await send({"type": "http.response.body", "body": ERROR_500})
            return
        status = exchange.status
        body_input = exchange.body_input
        if body_input is not None and body_input.too_large and status != 413:
            await self._send_413(send)
            return
        body = exchange.take_chunks()
        headers = exchange.headers
        content_length = exchange.content_length
        if content_length is None:
            # The app's framing is kept (uvicorn sends it chunked, as gunicorn does), except to
            # an HTTP/1.0 client, to which uvicorn would send chunks too: it gets the length.
            if (
                exchange.environ["SERVER_PROTOCOL"] == "HTTP/1.0"
                and status >= 200
                and status not in NO_BODY_STATUSES
                and exchange.environ["REQUEST_METHOD"] != "HEAD"
            ):
                headers.append((b"Content-Length", str(len(body)).encode()))
        elif len(body) > content_length:
            body = body[:content_length]
        if exchange.close_connection:
            headers.append(CLOSE)
        exchange.headers_sent = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _stream(self, exchange: Exchange, receive: Receive, send: Send) -> None:
        exchange.streaming = True
        loop = exchange.loop
        watcher: asyncio.Task[None] | None = None
        remaining: int | None = None
        try:
            while True:
                if exchange.cancelled:
                    return
                if exchange.expired:
                    await self._send_503(send)
                    return
                if not exchange.headers_sent:
                    if exchange.done:
                        await self._send_whole(exchange, send)
                        return
                    if exchange.status is not None and self._may_send_headers(exchange):
                        remaining = exchange.content_length
                        headers = exchange.headers
                        if exchange.close_connection:
                            headers.append(CLOSE)
                        await send(
                            {
                                "type": "http.response.start",
                                "status": exchange.status,
                                "headers": headers,
                            }
                        )
                if exchange.headers_sent and exchange.chunks:
                    done = exchange.done
                    body = exchange.take_chunks()
                    produced = len(body)
                    if remaining is not None:
                        body = body[:remaining]
                        remaining -= len(body)
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                    exchange.mark_consumed(produced)
                    if not done:
                        continue
                if exchange.done and exchange.headers_sent and not exchange.chunks:
                    if exchange.error:
                        return
                    await send({"type": "http.response.body", "body": b""})
                    return
                if watcher is None and self._body_consumed(exchange):
                    watcher = loop.create_task(self._watch_disconnect(exchange, receive))
                exchange.waiter = loop.create_future()
                if exchange.chunks or exchange.done or exchange.cancelled or exchange.expired:
                    continue
                await exchange.waiter
        finally:
            if watcher is not None:
                watcher.cancel()

    @staticmethod
    def _may_send_headers(exchange: Exchange) -> bool:
        """Claim the headers for sending, unless the app's thread must first answer a 413.

        `headers_sent` is set before `too_large` is read here, and the thread reads
        `headers_sent` only after setting `too_large`, so at most one side answers.
        """
        exchange.headers_sent = True
        body_input = exchange.body_input
        if body_input is not None and body_input.too_large:
            exchange.close_connection = True
            if exchange.status != 413:
                exchange.headers_sent = False
                return False
        return True

    @staticmethod
    def _body_consumed(exchange: Exchange) -> bool:
        body_input = exchange.body_input
        return body_input is None or body_input.finished

    @staticmethod
    async def _watch_disconnect(exchange: Exchange, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                exchange.cancel()
                return

    def _track(self, loop: asyncio.AbstractEventLoop, exchange: Exchange) -> None:
        if loop is not self._loop:
            self._loop = loop
            self._inflight = {}
            self._sweeping = False
        self._inflight[exchange] = False
        if not self._sweeping:
            self._sweeping = True
            loop.call_later(STREAM_TICK, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Switch to streaming every exchange still running one to two ticks after it began."""
        if loop is not self._loop:
            return
        inflight = self._inflight
        for exchange, seen in list(inflight.items()):
            if seen:
                del inflight[exchange]
                if not exchange.done:
                    exchange.streaming = True
                    exchange.wake()
            else:
                inflight[exchange] = True
        if inflight:
            loop.call_later(STREAM_TICK, self._sweep, loop)
        else:
            self._sweeping = False

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        """Shut the thread pool down; requests already queued still run."""
        self.pool.close()
