"""What the gateway answers itself under its prefix: liveness, readiness, metrics and the admin
API, and the control plane followed from lifespan startup to shutdown."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cutover import Gateway
from tests.cutover.lifespan import running
from tests.cutover.stub_routing_apps import make_legacy, make_new

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-admin-token"
ITEM = "GET /items/{item_id}"


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


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
