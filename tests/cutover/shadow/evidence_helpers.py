"""Driving stub gateways for the evidence tests: requests, waiting for the shadow, publishing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import create_engine, select

from cutover import Gateway
from cutover.control.tables import metadata


async def get(gateway: Gateway, url: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(url, **kwargs)


async def shadowed(gateway: Gateway, *urls: str, **kwargs: Any) -> None:
    """Send each URL, wait for its shadow replay, then publish the process's evidence."""
    for url in urls:
        answer = await get(gateway, url, **kwargs)
        assert answer.status_code == 200
        await gateway.shadow.join()
    await gateway.publisher.flush()


def close(gateway: Gateway) -> None:
    """What the lifespan's shutdown would release: the legacy threads and the store's pool."""
    gateway.bridge.close()
    if gateway.control.store is not None:
        gateway.control.store.dispose()


def raw_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every cutover_shadow_* table, as the database holds it."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: [tuple(row) for row in connection.execute(select(table))]
                for name, table in metadata.tables.items()
                if name.startswith("cutover_shadow_")
            }
    finally:
        engine.dispose()
