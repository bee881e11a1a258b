"""Serve one shadowed request: buffer its (small) body, let the answering side answer the client
while a copy of the answer is kept, then queue the replay; nothing here waits for the other side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cutover.asgi import without_body
from cutover.limits import serve_within
from cutover.shadow.answer import Answer
from cutover.shadow.runner import ShadowJob, ShadowRunner


def side_apps(
    legacy: ASGIApp, new: ASGIApp, limit: int | None, *, head: bool
) -> tuple[ASGIApp, ASGIApp]:
    """The two sides of a route as ASGI apps, the new one held to the body limit (and a HEAD
    run as GET without a body, as the gateway serves it there)."""

    async def serve_new(scope: Scope, receive: Receive, send: Send) -> None:
        if head:
            scope, send = {**scope, "method": "GET"}, without_body(send)
        await serve_within(new, limit, scope, receive, send)

    return legacy, serve_new


async def serve_shadowed(
    runner: ShadowRunner,
    route: str,
    scope: Scope,
    receive: Receive,
    send: Send,
    primary: ASGIApp,
    candidate: ASGIApp,
) -> None:
    """`primary` answers as it would alone; afterwards `candidate` is queued for comparison."""
    length = _declared_length(scope)
    if length is None or length > runner.max_body_size:
        # Chunked or too large: serve it unshadowed rather than hold the body.
        runner.refuse(route)
        await primary(scope, receive, send)
        return
    body = b""
    if length:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await primary(scope, _replaying(b"", message), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        receive = _replaying(body, None, receive)
    recorder = Recorder(send, runner.max_answer_size)
    await primary(scope, receive, recorder.send)
    answer = recorder.answer()
    if answer is None:
        runner.refuse(route)
        return
    runner.submit(ShadowJob(route, scope, body, answer, primary, candidate))


def _declared_length(scope: Scope) -> int | None:
    """The body length the request declares: 0 without one, None when chunked."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)
        if name == b"transfer-encoding":
            return None
    return 0


def _replaying(body: bytes, first: Message | None, rest: Receive | None = None) -> Receive:
    """A `receive` giving `body` (or the message already read) once, then the real stream."""
    pending: Message | None = first or {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> Message:
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        if rest is None:
            return {"type": "http.disconnect"}
        return await rest()

    return receive


class Recorder:
    """The primary's `send`, passing every message on and keeping a copy up to `limit` bytes."""

    __slots__ = ("_limit", "_send", "messages", "overflowed", "size")

    def __init__(self, send: Callable[[Message], Awaitable[None]], limit: int) -> None:
        self._send = send
        self._limit = limit
        self.messages: list[Message] = []
        self.size = 0
        self.overflowed = False

    async def send(self, message: Message) -> None:
        if not self.overflowed:
            self.size += len(message.get("body", b""))
            if self.size > self._limit:
                self.overflowed = True
                self.messages.clear()
            else:
                self.messages.append(message)
        await self._send(message)

    def answer(self) -> Answer | None:
        """The recorded answer, or None when it was too large to keep."""
        if self.overflowed or not self.messages:
            return None
        try:
            return Answer.from_asgi(self.messages)
        except ValueError:
            return None
