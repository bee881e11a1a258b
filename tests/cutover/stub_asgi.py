"""A dependency-free ASGI app for the slow-client tests: only the server's behaviour is tested."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Message = dict[str, Any]


async def app(scope: Scope, receive: Any, send: Any) -> None:
    """`/` answers at once, `/sleep` late, `/stream` in delayed chunks, `/echo` the body back."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    query = {key: values[0] for key, values in parse_qs(scope["query_string"].decode()).items()}
    path = scope["path"]
    if path == "/sleep":
        await asyncio.sleep(float(query["seconds"]))
        await _respond(send, b"slept")
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(int(query["chunks"])):
            await asyncio.sleep(float(query["delay"]))
            await send({"type": "http.response.body", "body": b"%d;" % index, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/echo":
        body = b""
        while True:
            message: Message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await _respond(send, body)
    else:
        await _respond(send, b"ok")


async def _respond(send: Any, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
