"""What the gateway answers itself under its prefix: liveness, readiness, metrics and the admin
API, and the control plane followed from lifespan startup to shutdown."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cutover import Gateway
from cutover.control.modes import Mode, RouteMode
from cutover.control.store import StateStore
from tests.cutover.stub_routing_apps import make_legacy, make_new

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-admin-token"
ITEM = "GET /items/{item_id}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


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


def gateway_on(state_url: str | None, **options: Any) -> Gateway:
    return Gateway(
        make_legacy(),
        make_new(),
        state_url=state_url,
        served_by_header=True,
        access_log=False,
        state_poll_interval=0.2,
        **options,
    )


async def test_healthz_names_the_process() -> None:
    async with running(gateway_on(None)) as client:
        answer = await client.get("/_cutover/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "pid": os.getpid()}


async def test_readiness_fails_with_any_check_and_says_which(state_url: str) -> None:
    def broken() -> tuple[str, bool, str]:
        return ("database", False, "OperationalError: connection refused")

    async with running(gateway_on(state_url, readiness_checks=[broken])) as client:
        answer = await client.get("/_cutover/readyz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    checks = answer.json()["checks"]
    assert checks["database"] == {"ok": False, "detail": "OperationalError: connection refused"}
    assert checks["state"]["ok"] is True


async def test_readiness_reports_a_state_store_that_cannot_be_read(tmp_path: Path) -> None:
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "state.db").mkdir()
    gateway = gateway_on(f"sqlite:///{tmp_path / 'state.db'}")
    async with running(gateway) as client:
        ready = await client.get("/_cutover/readyz")
        served = await client.get("/items/1")
    assert ready.status_code == 503
    assert ready.json()["checks"]["state"]["ok"] is False
    # The gateway still serves, with the modes from code.
    assert served.headers["x-cutover-served-by"] == "new"


async def test_metrics_count_each_request_by_route_side_and_mode(state_url: str) -> None:
    gateway = gateway_on(state_url)
    async with running(gateway) as client:
        for _ in range(3):
            await client.get("/items/1", headers={"authorization": "Bearer secret-token"})
        await client.get("/tickets?password=hunter2")
        text = (await client.get("/_cutover/metrics")).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    requests = {
        (s.labels["route"], s.labels["side"], s.labels["mode"]): s.value
        for s in families["cutover_requests"].samples
        if s.name == "cutover_requests_total"
    }
    assert requests[("/items/{item_id}", "new", "new")] == 3
    assert requests[("/tickets", "legacy", "legacy")] == 1
    assert "hunter2" not in text
    assert "secret-token" not in text
    assert families["cutover_mode_state_version"].samples[0].value == 0
    assert "cutover_legacy_pool_busy_threads" in families


async def test_the_admin_api_is_off_without_a_token(state_url: str) -> None:
    async with running(gateway_on(state_url)) as client:
        answer = await client.get("/_cutover/api/status", headers={"authorization": "Bearer x"})
    assert answer.status_code == 404


async def test_an_admin_switch_is_served_by_the_next_requests(state_url: str) -> None:
    gateway = gateway_on(state_url, admin_token=TOKEN)
    auth = {"authorization": f"Bearer {TOKEN}"}
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
