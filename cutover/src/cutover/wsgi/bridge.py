"""Serve a WSGI app from ASGI the way gunicorn would: one thread hop per request, within limits.

A request's environ is built and its body read on the event loop (small bodies whole, larger or
chunked ones streamed to the app's thread), then one `WSGIResponder` is handed to the pool,
whose thread runs the app, and the response is sent back (see `cutover.wsgi.delivery`). A
response still running one to two `STREAM_TICK`s after it began switches to streaming.

Limits, each answered in the legacy app's own format: a body over `max_body_size` is refused by
its Content-Length before it is read, or once the bytes counted while it streams pass the limit,
with the app's 413 (a Flask app's own handler, else werkzeug's page) and a closed connection. A
request finding `queue_size` requests already waiting for a thread, or waiting `queue_timeout`
seconds without one, is answered werkzeug's 503 page with `Retry-After: 1` and never runs. An app
that fails before its response has started gets gunicorn's 500 page.

With `freeze_startup_heap`, the first request moves the objects created at startup out of the
garbage collector's reach (`gc.freeze()`, once), so full collections stop walking them while
requests wait; cyclic garbage created before the first request is then never freed.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import time

from starlette.types import Receive, Scope, Send

from cutover.wsgi.delivery import StreamSweep, deliver
from cutover.wsgi.environ import SERVER_SOFTWARE, WSGIApp, build_environ
from cutover.wsgi.errors import (
    ERROR_413,
    ERROR_500,
    HTML,
    error_start,
    send_overloaded,
    too_large_responder,
)
from cutover.wsgi.input import StreamedInput, read_head
from cutover.wsgi.pool import WorkerPool
from cutover.wsgi.responder import WSGIResponder

DEFAULT_THREADS = 32
DEFAULT_MAX_BODY: int | None = 10 * 1024 * 1024
# A burst the threads clear within seconds waits its turn, as it would in gunicorn's backlog;
# a backlog deeper than this, or a wait longer than this, is overload and answered 503.
DEFAULT_QUEUE_SIZE: int | None = 1024
DEFAULT_QUEUE_TIMEOUT: float | None = 10.0
OVERLOAD_WARNING_INTERVAL = 1.0

logger = logging.getLogger("cutover.wsgi")


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
        self._streams = StreamSweep()

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
                head, more = await read_head(receive, limit)
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

        responder = WSGIResponder(app, loop, environ, body_input, self._too_large_app)
        responder.close_connection = too_large
        if not self.pool.submit(responder.run, responder.expire):
            await self._send_503(send)
            return
        self._streams.track(loop, responder)
        try:
            refused = await deliver(responder, receive, send)
        finally:
            self._streams.forget(responder)
            responder.release()
        if refused == 503:
            await self._send_503(send)
        elif refused == 500:
            await send(error_start(500, ERROR_500, b"text/html"))
            await send({"type": "http.response.body", "body": ERROR_500})
        elif refused == 413:
            await send(error_start(413, ERROR_413, HTML))
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
        await send_overloaded(send)

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
