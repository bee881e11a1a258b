"""Body-size limits shared by the gateway and the compat middleware, without FastAPI."""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive


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
