"""An in-process client the compat tests share: one request to an ASGI app."""

from typing import Any

import httpx


async def call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request to an ASGI app, exceptions answered by the app, redirects not followed."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.request(method, path, **kwargs)
