"""The request body as `wsgi.input`: small bodies read whole on the loop, larger ones streamed.

A body of up to `BUFFERED_BODY_LIMIT` bytes is read on the event loop before the app runs and
handed over as a `BytesIO`. A larger or still-arriving one becomes a `StreamedInput`, which the
app's thread pulls message by message from the loop as it reads, so an upload holds bounded
memory. Bytes past the body limit raise `BodyTooLarge` (Flask answers it as a 413); a client
that leaves mid-body raises `ClientGone`.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any, Protocol

from starlette.types import Message, Receive
from werkzeug.exceptions import RequestEntityTooLarge

BUFFERED_BODY_LIMIT = 1024 * 1024


class BodyTooLarge(RequestEntityTooLarge, OSError):
    """Raised from `wsgi.input` when a streamed body crosses the limit; Flask answers it as 413."""


class BodyProgress(Protocol):
    """How far a request body has got: read to its end, or cut off past the limit."""

    finished: bool
    too_large: bool


class ClientGone(Exception):
    """Raised in the app's thread to stop it once the client has disconnected."""


async def read_head(receive: Receive, limit: int | None) -> tuple[bytes, bool]:
    """Read up to BUFFERED_BODY_LIMIT of the body (or `limit`); True means more is to come."""
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
