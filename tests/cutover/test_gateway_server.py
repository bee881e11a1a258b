"""The gateway under a real uvicorn: lifespan runs through it, and both sides answer."""

from __future__ import annotations

import httpx
import pytest

from tests.cutover.stub_routing_apps import REPORT_BODY
from tests.servers import serve_uvicorn


@pytest.mark.slow
def test_gateway_under_uvicorn() -> None:
    with (
        serve_uvicorn("tests.cutover.stub_routing_apps:gateway") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        health = client.get("/health")
        state = health.json()["state"]
        assert state.pop("request_id") == health.headers["x-request-id"]
        assert health.json()["side"] == "new"
        assert state == {"lifespan": "ran"}
        assert client.get("/items/5").json() == {"side": "new", "item_id": 5}
        assert client.get("/items/x").status_code == 404
        assert client.post("/split").json() == {"side": "legacy"}
        head = client.head("/reports/")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(REPORT_BODY))
        redirect = client.get("/reports")
        assert redirect.status_code == 308
        assert redirect.headers["location"] == f"{server.url}/reports/"
        options = client.options("/tickets")
        assert sorted(options.headers["allow"].split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]
