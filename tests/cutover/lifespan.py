"""Run a gateway's lifespan in-process as a server would, for tests that need it started."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from cutover import Gateway


@asynccontextmanager
async def running(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with its lifespan started, as a server would, and a client to it."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(gateway(scope, incoming.get, sent.put))
    await incoming.put({"type": "lifespan.startup"})
    assert (await asyncio.wait_for(sent.get(), 30))["type"] == "lifespan.startup.complete"
    transport = httpx.ASGITransport(app=gateway)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await incoming.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(sent.get(), 30))["type"] == "lifespan.shutdown.complete"
        await task
