"""The stub app's traffic, recorded through a real gateway with a state store, so the samples the
scaffold learns from exist (as the OpenAPI document learns them)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from cutover import Gateway
from cutover.compat import LegacyJSONResponse, install_legacy_errors
from cutover.openapi.samples import StoredSample, read_samples

# The traffic recorded before drafting, as clients would send it.
TRAFFIC: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/widgets", {"json": {"name": "cog", "colour": "red", "size": 3}}),
    ("POST", "/widgets", {"json": {"name": "gear", "size": 2}}),
    ("POST", "/widgets", {"json": {"name": ""}}),
    ("POST", "/widgets", {}),
    ("GET", "/widgets", {}),
    ("GET", "/widgets?limit=1", {}),
    ("GET", "/widgets/1", {}),
    ("GET", "/widgets/99", {}),
    ("PUT", "/widgets/1", {"json": {"name": "cog2"}}),
    ("PUT", "/widgets/99", {"json": {"name": "x"}}),
    ("GET", "/widgets/count", {}),
    ("GET", "/widgets/count?colour=red", {}),
    ("GET", "/widgets/search?q=g", {}),
    ("GET", "/widgets/by-name/gear", {}),
    ("GET", "/widgets/by-name/none", {}),
    ("GET", "/widgets/1/links", {}),
    ("GET", "/widgets/pages/1", {}),
    ("GET", "/health", {}),
    ("POST", "/echo", {"json": {"a": 1}}),
    ("GET", "/whoami", {}),
    ("GET", "/page", {}),
    ("GET", "/refuse", {}),
    ("GET", "/widgets/1/summary", {}),
    ("GET", "/widgets/1/summary?format=long", {}),
    ("GET", "/widgets/99/summary", {}),
    ("GET", "/visitor", {}),
    ("GET", "/widgets/1/size", {}),
    ("POST", "/widgets/form", {"data": {"name": "sprocket", "colour": "blue"}}),
    ("POST", "/widgets/form", {"data": {"colour": "blue"}}),
    ("GET", "/widgets/1/go", {}),
    ("POST", "/widgets/1/size", {"json": {"size": 5}}),
    ("POST", "/widgets/1/size", {"json": {"size": 0}}),
    ("DELETE", "/widgets/2", {}),
    ("DELETE", "/widgets/99", {}),
]


async def record(flask_app: Flask, state_url: str) -> dict[str, list[StoredSample]]:
    """Send TRAFFIC through a legacy-only gateway sampling every request; the samples kept."""
    gateway = Gateway(flask_app, state_url=state_url, openapi_sample_every=1)
    store = gateway.control.store
    assert store is not None
    store.create_tables()
    try:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            for method, url, options in TRAFFIC:
                await client.request(method, url, **options)
        await gateway.publisher.flush()
        return read_samples(store)
    finally:
        gateway.bridge.close()
        store.dispose()


def ported_app(flask_app: Flask, routers: list[Any], database_url: str) -> FastAPI:
    """The FastAPI app the drafts expect: Flask's wire format, sessions and the legacy config."""
    app = FastAPI(default_response_class=LegacyJSONResponse, redirect_slashes=False)
    install_legacy_errors(app)
    engine = create_engine(database_url)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    app.state.config = flask_app.config
    for router in routers:
        app.include_router(router)
    return app
