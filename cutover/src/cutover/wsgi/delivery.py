"""The send loop: how a `WSGIResponder`'s response reaches the client, whole or streamed.

A response the thread finished before the loop looked at it goes out as one start and one body
message. Otherwise it is streamed in two phases: until the app has started its response nothing
is sent; then the start message, each chunk as the thread produces it (cut to the app's
Content-Length), and the end of the body. Once the request body is read, a watcher turns the
client's disconnect into `cancel()`. The response says `Connection: close` when the connection
ends with it: the bridge or the thread decided so (an oversized body), or the client speaks
HTTP/1.0 without keep-alive. Where the app's response cannot be sent, the status the bridge must
answer with instead is returned: 500 (the app failed before its response started), 413 (its
answer to an oversized body came too late) or 503 (the pool dropped the request).
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Send

from cutover.wsgi.environ import Environ
from cutover.wsgi.errors import CLOSE
from cutover.wsgi.responder import DONE, EXPIRED, FAILED, STARTED, WSGIResponder

NO_BODY_STATUSES = frozenset((204, 304))
STREAM_TICK = 0.01


class StreamSweep:
    """Switches every response still running one to two `STREAM_TICK`s after it began to
    streaming, with one timer for all of them."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: dict[WSGIResponder, bool] = {}
        self._sweeping = False

    def track(self, loop: asyncio.AbstractEventLoop, responder: WSGIResponder) -> None:
        if loop is not self._loop:
            self._loop = loop
            self._inflight = {}
            self._sweeping = False
        self._inflight[responder] = False
        if not self._sweeping:
            self._sweeping = True
            loop.call_later(STREAM_TICK, self._sweep, loop)

    def forget(self, responder: WSGIResponder) -> None:
        self._inflight.pop(responder, None)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._loop:
            return
        inflight = self._inflight
        for responder, seen in list(inflight.items()):
            if seen:
                del inflight[responder]
                responder.stream_if_running()
            else:
                inflight[responder] = True
        if inflight:
            loop.call_later(STREAM_TICK, self._sweep, loop)
        else:
            self._sweeping = False


async def deliver(responder: WSGIResponder, receive: Receive, send: Send) -> int | None:
    """Send the app's response; else return the status the bridge must answer with."""
    if not responder.close_connection and _closes_after_response(responder.environ):
        responder.close_connection = True
    await responder.waiter
    state = responder.state
    if state is EXPIRED:
        return 503
    if state is DONE or state is FAILED:
        return await _send_whole(responder, send)
    try:
        return await _stream(responder, receive, send)
    finally:
        if responder.watcher is not None:
            responder.watcher.cancel()


async def _send_whole(responder: WSGIResponder, send: Send) -> int | None:
    """Send a finished response as one start and one body message."""
    status = responder.status
    if responder.state is FAILED or status is None:
        return 500
    body_input = responder.body_input
    if body_input is not None and body_input.too_large and status != 413:
        return 413
    body = responder.take_chunks()
    headers = responder.headers
    content_length = responder.content_length
    if content_length is None:
        # The app's framing is kept (uvicorn sends it chunked, as gunicorn does), except to
        # an HTTP/1.0 client, to which uvicorn would send chunks too: it gets the length.
        environ = responder.environ
        if (
            environ["SERVER_PROTOCOL"] == "HTTP/1.0"
            and status >= 200
            and status not in NO_BODY_STATUSES
            and environ["REQUEST_METHOD"] != "HEAD"
        ):
            headers.append((b"Content-Length", str(len(body)).encode()))
    elif len(body) > content_length:
        body = body[:content_length]
    if responder.close_connection:
        headers.append(CLOSE)
    responder.headers_sent = True
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return None


async def _stream(responder: WSGIResponder, receive: Receive, send: Send) -> int | None:
    """Send the response chunk by chunk as the thread produces it."""
    responder.streaming = True
    # Phase 1: until the app has started its response, nothing is sent.
    while True:
        if responder.cancelled:
            return None
        state = responder.state
        if state is EXPIRED:
            return 503
        if state is DONE or state is FAILED:
            return await _send_whole(responder, send)
        if state is STARTED and _claim_headers(responder):
            break
        await _wait_for_thread(responder, receive)
    # Phase 2: the start message, each chunk as it comes, then the end of the body.
    headers = responder.headers
    if responder.close_connection:
        headers.append(CLOSE)
    await send({"type": "http.response.start", "status": responder.status, "headers": headers})
    remaining = responder.content_length
    while not responder.cancelled:
        state = responder.state
        finished = state is DONE or state is FAILED  # read before the chunks: none come after
        if responder.chunks:
            body = responder.take_chunks()
            produced = len(body)
            if remaining is not None:
                body = body[:remaining]
                remaining -= len(body)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            responder.mark_consumed(produced)
            if not finished:
                continue
        if finished:
            if state is not FAILED:  # a failed app's response is left unterminated
                await send({"type": "http.response.body", "body": b""})
            return None
        await _wait_for_thread(responder, receive)
    return None


def _closes_after_response(environ: Environ) -> bool:
    """An HTTP/1.0 request without `Connection: keep-alive`: its connection ends with this
    response (RFC 9112 9.3), and the response says so, as gunicorn's does (uvicorn says so
    itself from 0.53 on, older releases did not)."""
    if environ["SERVER_PROTOCOL"] != "HTTP/1.0":
        return False
    options = environ.get("HTTP_CONNECTION", "").lower().split(",")
    return "keep-alive" not in (option.strip() for option in options)


def _claim_headers(responder: WSGIResponder) -> bool:
    """Claim the headers for sending, unless the app's thread must first answer a 413.

    `headers_sent` is set before `too_large` is read here, and the thread reads
    `headers_sent` only after setting `too_large`, so at most one side answers.
    """
    responder.headers_sent = True
    body_input = responder.body_input
    if body_input is not None and body_input.too_large:
        responder.close_connection = True
        if responder.status != 413:
            responder.headers_sent = False
            return False
    return True


async def _wait_for_thread(responder: WSGIResponder, receive: Receive) -> None:
    """Sleep until the thread has news; from when the body is read, watch for a disconnect."""
    body_input = responder.body_input
    if responder.watcher is None and (body_input is None or body_input.finished):
        responder.watcher = responder.loop.create_task(_watch_disconnect(responder, receive))
    responder.waiter = responder.loop.create_future()
    state = responder.state
    if responder.chunks or responder.cancelled or state is DONE or state is FAILED:
        return
    if state is EXPIRED:
        return
    await responder.waiter


async def _watch_disconnect(responder: WSGIResponder, receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            responder.cancel()
            return
