"""The control plane inside a running gateway, on each state backend: a switch over the admin
API is served by the next requests, modes set before startup by the first, and the request path
does no I/O while the follower polls beside it."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cutover import Gateway
from cutover.control.modes import Mode, RouteMode
from cutover.control.store import StateStore
from tests.cutover.lifespan import running
from tests.cutover.stub_routing_apps import make_legacy, make_new

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-admin-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
ITEM = "GET /items/{item_id}"


def gateway_on(state_url: str) -> Gateway:
    return Gateway(
        make_legacy(),
        make_new(),
        state_url=state_url,
        admin_token=TOKEN,
        served_by_header=True,
        access_log=False,
        state_poll_interval=0.2,
    )


async def until_served(client: httpx.AsyncClient, path: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not done():
        assert time.monotonic() < deadline, "the switch was not applied within 5 s"
        await client.get(path)
        await asyncio.sleep(0.05)


async def test_an_admin_switch_is_served_by_the_next_requests(state_url: str) -> None:
    gateway = gateway_on(state_url)
    auth = AUTH
    async with running(gateway) as client:
        refused = await client.get("/_cutover/api/status", headers={"authorization": "Bearer no"})
        assert refused.status_code == 401
        switch = {"method": "GET", "path": "/items/{item_id}", "mode": "legacy", "reason": "test"}
        answer = await client.post("/_cutover/api/switch", json=switch, headers=auth)
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 5
        while (await client.get("/items/1")).headers["x-cutover-served-by"] != "legacy":
            assert time.monotonic() < deadline, "the switch was not applied within 5 s"
            await asyncio.sleep(0.05)
        assert gateway.control.version == answer.json()["version"]
        status = (await client.get("/_cutover/api/status", headers=auth)).json()
    routes = {route["route"]: route for route in status["routes"]}
    assert routes[ITEM]["mode"] == "legacy"


async def test_modes_switched_before_startup_are_served_from_the_first_request(
    state_url: str,
) -> None:
    store = StateStore(state_url)
    store.create_tables()
    gateway = gateway_on(state_url)
    store.publish_routes(list(gateway.control.routes.values()))
    store.switch(ITEM, RouteMode(Mode.LEGACY), actor="test", reason="before the deploy")
    store.dispose()
    async with running(gateway) as client:
        first = await client.get("/items/1")
    assert first.headers["x-cutover-served-by"] == "legacy"


@pytest.fixture
def io_events() -> Iterator[list[str]]:
    """Audit events of I/O (files, sockets, databases, subprocesses) on this thread."""
    events: list[str] = []
    watching = threading.get_ident()
    prefixes = ("open", "socket.", "sqlite3.", "subprocess.", "os.", "shutil.", "time.sleep")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if threading.get_ident() == watching and event.startswith(prefixes):
            events.append(event)

    sys.addaudithook(hook)
    yield events
    events.clear()  # audit hooks cannot be removed; this one only records into a dead list
    watching = -1


async def test_the_request_path_does_no_io_with_the_control_plane_on(
    state_url: str, io_events: list[str]
) -> None:
    gateway = gateway_on(state_url)
    async with running(gateway) as client:
        switch = {"method": "GET", "path": "/items/{item_id}", "mode": "canary", "percent": 50}
        answer = await client.post(
            "/_cutover/api/switch", json={**switch, "reason": "t"}, headers=AUTH
        )
        assert answer.status_code == 200
        await until_served(client, "/items/1", lambda: gateway.control.version == 1)
        await client.get("/items/1")  # warm: imports and caches
        io_events.clear()
        for n in range(20):
            served = await client.get("/items/1", headers={"authorization": f"Bearer t{n}"})
            assert served.status_code == 200
        on_the_loop = list(io_events)
        sides = {served.headers["x-cutover-served-by"]}
    # The follower polled the store meanwhile, on its own thread: none of it on the loop's.
    assert on_the_loop == []
    assert sides <= {"legacy", "new"}
    assert gateway.control.choices[ITEM].label == "canary"
