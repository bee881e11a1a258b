"""A route both sides serve, a FastAPI side that fails on demand, a clock tests move by hand
and clients known to land on each side of a canary: what the traffic and promotion tests use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException
from flask import Flask

from cutover import Gateway
from cutover.control.canary import bucket
from cutover.control.store import StateStore
from cutover.observe.traffic import TrafficCollector

ROUTE = "GET /items/{item_id}"


class Clock:
    """Now, as the test says: starts at the real time, moves only when told."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Fault:
    """Switched on, the new side answers 500."""

    on: bool = False
    served: list[str] = field(default_factory=list)


def apps(fault: Fault) -> tuple[Flask, FastAPI]:
    legacy = Flask("promotion_legacy")

    @legacy.get("/items/<int:item_id>")
    def legacy_item(item_id: int) -> Any:
        return {"item_id": item_id}

    new = FastAPI()

    @new.get("/items/{item_id}")
    async def new_item(item_id: int) -> dict[str, Any]:
        fault.served.append("new")
        if fault.on:
            raise HTTPException(500, "injected fault")
        return {"item_id": item_id}

    return legacy, new


def clients(side: str, percent: float, count: int) -> list[str]:
    """`count` bearer tokens that a canary of `percent` puts on `side`."""
    threshold = round(percent * 100)
    found: list[str] = []
    n = 0
    while len(found) < count:
        token = f"client-{n}"
        on_new = bucket(b"bearer:" + token.encode()) < threshold
        if on_new == (side == "new"):
            found.append(token)
        n += 1
    return found


@dataclass
class Rig:
    """A gateway on a state store, its traffic collected on the test's clock."""

    gateway: Gateway
    store: StateStore
    clock: Clock
    fault: Fault
    traffic: TrafficCollector

    def follow(self) -> None:
        """What the follower does: the store's modes applied to the gateway now."""
        self.gateway.control.apply(self.store.read_state())

    async def send(self, side: str, count: int, percent: float = 50.0) -> list[int]:
        """`count` requests from clients `percent` puts on `side`; their statuses."""
        transport = httpx.ASGITransport(app=self.gateway)
        statuses = []
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for token in clients(side, percent, count):
                answer = await client.get("/items/1", headers={"authorization": f"Bearer {token}"})
                statuses.append(answer.status_code)
        return statuses

    def publish(self) -> None:
        """Collect the traffic since last time and write it, stamped by the clock."""
        write = self.traffic()
        if write is not None:
            write()


@contextmanager
def rig(state_url: str, process_id: str = "proc-a", clock: Clock | None = None) -> Iterator[Rig]:
    store = StateStore(state_url)
    store.create_tables()
    fault = Fault()
    legacy, new = apps(fault)
    gateway = Gateway(legacy, new, state_url=state_url, access_log=False)
    store.publish_routes(list(gateway.control.routes.values()))
    clock = clock or Clock()
    traffic = TrafficCollector(gateway.metrics.tally, store, clock=clock, process_id=process_id)
    try:
        yield Rig(gateway, store, clock, fault, traffic)
    finally:
        gateway.bridge.close()
        assert gateway.control.store is not None
        gateway.control.store.dispose()
        store.dispose()
