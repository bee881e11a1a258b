"""Requests through a `WSGIBridge` on a fresh event loop, as a server would send them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, MutableMapping
from typing import Any

from cutover.wsgi import WSGIBridge

Message = MutableMapping[str, Any]


def http_scope(
    method: str = "GET", path: str = "/", headers: Iterable[tuple[str, str]] = ()
) -> Any:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def exchange(bridge: WSGIBridge, scope: Any, body: Iterable[bytes] = ()) -> list[Message]:
    """Run one request through the bridge on a fresh event loop, as a server would: the
    messages it sent."""

    async def run() -> list[Message]:
        incoming: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": True} for chunk in body
        ]
        incoming.append({"type": "http.request", "body": b"", "more_body": False})
        sent: list[Message] = []
        never = asyncio.Event()

        async def receive() -> Message:
            if incoming:
                return incoming.pop(0)
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        await bridge(scope, receive, send)
        return sent

    return asyncio.run(run())


def call(bridge: WSGIBridge, scope: Any, body: Iterable[bytes] = ()) -> tuple[int, bytes]:
    """Run one request through the bridge on a fresh event loop: its status and body."""
    start, *rest = exchange(bridge, scope, body)
    return start["status"], b"".join(m.get("body", b"") for m in rest)
