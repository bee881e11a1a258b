"""Body-size limits shared by the gateway and the compat middleware, without FastAPI."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.responses import Response as StarletteResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class LimitedReceive:
    """An ASGI `receive` raising Starlette's 413 once more than `limit` body bytes arrived."""

    __slots__ = ("exceeded", "limit", "receive", "received")

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.received = 0
        self.exceeded = False

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                raise StarletteHTTPException(413)
        return message


async def refuse_body(new: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """413 from the FastAPI app's own handler, as Starlette would pick it; no endpoint runs."""
    exc = StarletteHTTPException(413)
    handler = _http_exception_handler(getattr(new, "exception_handlers", {}), exc)
    response: StarletteResponse
    if handler is None:
        response = PlainTextResponse(exc.detail, status_code=exc.status_code)
    else:
        request = Request({**scope, "app": new}, receive)
        if inspect.iscoroutinefunction(handler):
            response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
    response.headers["connection"] = "close"
    await response(scope, receive, send)


def _http_exception_handler(handlers: Mapping[Any, Any], exc: StarletteHTTPException) -> Any | None:
    """The handler Starlette's ExceptionMiddleware would call for `exc`: by status, then class.

    Handlers for `Exception` (and 500) belong to the server-error middleware, so they are skipped.
    """
    handler = handlers.get(exc.status_code)
    if handler is not None:
        return handler
    for cls in type(exc).__mro__:
        if cls is Exception:
            break
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None


def closing_if_exceeded(send: Send, limited: LimitedReceive) -> Send:
    """`send` adding `Connection: close` to the answer once the body passed the limit."""

    async def send_closing(message: Message) -> None:
        if message["type"] == "http.response.start" and limited.exceeded:
            headers = [*message.get("headers", []), (b"connection", b"close")]
            message = {**message, "headers": headers}
        await send(message)

    return send_closing


async def serve_within(
    app: ASGIApp, limit: int | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """`app` held to the body limit; a request without a body pays one scan of its headers."""
    if limit is not None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                # The server delivers no more than it declared: only the number is checked.
                if int(value) > limit:
                    await refuse_body(app, scope, receive, send)
                    return
                break
            if name == b"transfer-encoding":
                limited = LimitedReceive(receive, limit)
                await app(scope, limited, closing_if_exceeded(send, limited))
                return
    await app(scope, receive, send)
