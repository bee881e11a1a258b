"""The promotion on the admin API (POST /promote, GET /promotions, POST /promote/cancel) behind
the token, and inside a running gateway: its own traffic written and its driver taking the lease."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cutover import Gateway
from cutover.control.api import AdminAPI
from cutover.control.modes import Mode, RouteMode
from cutover.control.promote_api import add_promotion_routes
from cutover.control.store import StateStore, now
from cutover.observe.traffic import route_traffic
from tests.cutover.control.conftest import BOTH
from tests.cutover.lifespan import running
from tests.cutover.stub_routing_apps import make_legacy, make_new

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PREFIX = "/_cutover/api"
ITEM = {"method": "GET", "path": "/items/{item_id}"}


@pytest.fixture
async def client(store: StateStore) -> AsyncIterator[httpx.AsyncClient]:
    api = AdminAPI(store, TOKEN)
    add_promotion_routes(api)
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def test_promote_list_and_cancel(client: httpx.AsyncClient, store: StateStore) -> None:
    body: dict[str, Any] = {
        **ITEM,
        "steps": [5, 100],
        "interval": "2m",
        "reason": "ported",
        "min_samples": 30,
        "max_p99_ratio": 2,
    }
    started = await client.post(f"{PREFIX}/promote", json=body, headers=AUTH)
    assert started.status_code == 200, started.text
    document = started.json()
    assert (document["route"], document["state"], document["interval"]) == (BOTH, "running", 120.0)
    assert document["thresholds"] == {
        "max_error_rate_increase": 0.01,
        "max_p99_ratio": 2.0,
        "max_mismatch_rate": 0.01,
        "min_samples": 30,
    }
    assert document["actor"] == "api"
    assert store.read_state().overrides[BOTH].mode == RouteMode(Mode.CANARY, 5)
    listed = (await client.get(f"{PREFIX}/promotions", headers=AUTH)).json()
    assert [one["route"] for one in listed["promotions"]] == [BOTH]
    again = await client.post(f"{PREFIX}/promote", json=body, headers=AUTH)
    assert again.status_code == 400 and "being promoted already" in again.json()["error"]
    cancel = {**ITEM, "reason": "not now", "actor": "dave"}
    cancelled = await client.post(f"{PREFIX}/promote/cancel", json=cancel, headers=AUTH)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert "cancelled by dave" in cancelled.json()["message"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"steps": "5,1"}, "steps go up"),
        ({"steps": [5, "x"]}, "'steps' is a number"),
        ({"interval": True}, "'interval' is seconds"),
        ({"min_samples": 2.5}, "'min_samples' is a whole number"),
        ({"max_p99_ratio": "2"}, "'max_p99_ratio' is a number"),
        ({"path": "items"}, "starting with '/'"),
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"reason": None}, "'reason' is a string"),
    ],
)
async def test_refusals_are_400(
    client: httpx.AsyncClient, store: StateStore, fields: dict[str, Any], message: str
) -> None:
    body = {**ITEM, "reason": "r", **fields}
    answer = await client.post(f"{PREFIX}/promote", json=body, headers=AUTH)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert store.read_version() == 0


async def test_the_promotion_api_needs_the_token(client: httpx.AsyncClient) -> None:
    for method, path in [("POST", "promote"), ("GET", "promotions"), ("POST", "promote/cancel")]:
        answer = await client.request(method, f"{PREFIX}/{path}", json={**ITEM, "reason": "r"})
        assert answer.status_code == 401


async def test_a_running_gateway_writes_its_traffic_and_drives_promotions(state_url: str) -> None:
    gateway = Gateway(
        make_legacy(),
        make_new(),
        state_url=state_url,
        admin_token=TOKEN,
        access_log=False,
        publish_interval=0.05,
        state_poll_interval=0.1,
    )
    since = now()
    async with running(gateway) as client:
        for n in range(3):
            assert (await client.get(f"/items/{n}")).status_code == 200
        body = {**ITEM, "steps": "100", "interval": 3600, "reason": "in a gateway"}
        started = await client.post(f"{PREFIX}/promote", json=body, headers=AUTH)
        assert started.status_code == 200, started.text
        deadline = time.monotonic() + 10
        while True:
            listed = await client.get(f"{PREFIX}/promotions", headers=AUTH)
            (promotion,) = listed.json()["promotions"]
            if promotion["leader"] is not None and "so far" in promotion["message"]:
                break
            assert time.monotonic() < deadline, promotion
            await asyncio.sleep(0.05)
        cancel = {**ITEM, "reason": "done"}
        cancelled = await client.post(f"{PREFIX}/promote/cancel", json=cancel, headers=AUTH)
        assert cancelled.status_code == 200  # two levels under the API, still the API's
        store = StateStore(state_url)
        try:
            _, new = route_traffic(store, BOTH, since)
        finally:
            store.dispose()
    assert new.requests == 3
    assert f":{os.getpid()}:" in promotion["leader"]  # this process's gateway drove it
    assert cancelled.json()["state"] == "cancelled"
