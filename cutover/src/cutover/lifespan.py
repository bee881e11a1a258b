"""The gateway's lifespan: the new app's own, with the gateway's start and stop run around it
(before the server hears that startup completed, and once shutdown is done)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Hook = Callable[[], Awaitable[None]]


async def run_lifespan(
    app: ASGIApp | None, scope: Scope, receive: Receive, send: Send, started: Hook, stopped: Hook
) -> None:
    """`app`'s lifespan with `started` and `stopped` added; without an app, only those."""
    if app is None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await started()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await stopped()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def send_to_server(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            await started()
        elif message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            await stopped()
        await send(message)

    await app(scope, receive, send_to_server)
