"""The admin HTTP API through httpx's ASGI transport: auth, refusals as 400, the same documents."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cutover.control.api import MAX_BODY, AdminAPI
from cutover.control.modes import LEGACY
from cutover.control.status import status_document
from cutover.control.store import StateStore
from tests.cutover.control.conftest import BOTH, LEGACY_ONLY, LISTED

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PREFIX = "/_cutover/api"

pytestmark = pytest.mark.anyio


def client_for(app: AdminAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


@pytest.fixture
async def client(store: StateStore) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(AdminAPI(store, TOKEN)) as client:
        yield client


def switch_body(**fields: Any) -> dict[str, Any]:
    return {
        "method": "GET",
        "path": "/items/{item_id}",
        "mode": "legacy",
        "reason": "500s",
        **fields,
    }


async def test_without_a_token_the_api_does_not_exist(store: StateStore) -> None:
    async with client_for(AdminAPI(store, None)) as client:
        for method, path in [
            ("GET", f"{PREFIX}/status"),
            ("POST", f"{PREFIX}/switch"),
            ("GET", f"{PREFIX}/history"),
            ("GET", f"{PREFIX}/nothing"),
        ]:
            response = await client.request(method, path, headers=AUTH)
            assert response.status_code == 404
            assert response.json() == {"error": "not found"}
    assert store.read_version() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": TOKEN},
    ],
    ids=["missing", "wrong", "longer", "basic", "empty", "no-scheme"],
)
async def test_a_missing_or_wrong_token_is_401(
    client: httpx.AsyncClient, store: StateStore, headers: dict[str, str]
) -> None:
    for method, path in [("GET", "status"), ("POST", "switch"), ("GET", "nothing")]:
        response = await client.request(
            method, f"{PREFIX}/{path}", headers=headers, json=switch_body()
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "bearer token" in response.json()["error"]
    assert store.read_version() == 0


async def test_the_token_is_compared_in_constant_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # what cutover.control.api calls
    assert (await client.get(f"{PREFIX}/status", headers=AUTH)).status_code == 200
    assert (await client.get(f"{PREFIX}/status")).status_code == 401
    assert compared == [(TOKEN.encode(), TOKEN.encode()), (b"", TOKEN.encode())]


async def test_status_is_the_status_document(client: httpx.AsyncClient, store: StateStore) -> None:
    store.switch(BOTH, LEGACY, actor="alice", reason="r")
    response = await client.get(f"{PREFIX}/status", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == status_document(store)


async def test_a_switch_is_applied_audited_and_visible_in_history(
    client: httpx.AsyncClient, store: StateStore
) -> None:
    response = await client.post(f"{PREFIX}/switch", headers=AUTH, json=switch_body())
    assert response.status_code == 200, response.text
    change = response.json()
    assert (change["version"], change["route"], change["actor"]) == (1, BOTH, "api")
    assert (change["before"], change["after"]) == (
        {"mode": "new", "percent": 0.0},
        {"mode": "legacy", "percent": 0.0},
    )
    canary = await client.post(
        f"{PREFIX}/switch",
        headers=AUTH,
        json=switch_body(mode="canary", percent=10, actor="deploy-bot", reason="10 %"),
    )
    assert canary.json()["after"] == {"mode": "canary", "percent": 10.0}
    await client.post(f"{PREFIX}/switch", headers=AUTH, json=switch_body(path="/items"))
    reset = await client.post(f"{PREFIX}/switch", headers=AUTH, json=switch_body(mode="default"))
    assert reset.json()["after"] == {"mode": "new", "percent": 0.0}
    assert BOTH not in store.read_state().overrides

    history = await client.get(f"{PREFIX}/history", headers=AUTH, params={"route": BOTH})
    assert history.status_code == 200
    changes = history.json()["changes"]
    assert [c["version"] for c in changes] == [4, 2, 1]
    assert [c["actor"] for c in changes] == ["api", "deploy-bot", "api"]
    assert changes[2] == change
    everything = await client.get(f"{PREFIX}/history", headers=AUTH, params={"limit": "2"})
    assert [c["version"] for c in everything.json()["changes"]] == [4, 3]
    assert [c.version for c in store.history()] == [4, 3, 2, 1]


async def test_switch_all_is_the_big_red_button(
    client: httpx.AsyncClient, store: StateStore
) -> None:
    response = await client.post(
        f"{PREFIX}/switch-all", headers=AUTH, json={"mode": "legacy", "reason": "incident"}
    )
    assert response.status_code == 200
    assert {c["route"] for c in response.json()["changes"]} == {BOTH, LISTED, "POST /items"}
    assert {c["actor"] for c in response.json()["changes"]} == {"api"}
    assert store.read_state().overrides[LISTED].mode == LEGACY
    refused = await client.post(
        f"{PREFIX}/switch-all", headers=AUTH, json={"mode": "canary", "reason": "x"}
    )
    assert refused.status_code == 400
    assert "legacy or new" in refused.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"method": "GET", "path": "/items", "reason": "x"}), "missing field 'mode'"),
        (json.dumps(switch_body(precent=5)), "unknown field 'precent'"),
        (json.dumps(switch_body(method=7)), "'method' is a string"),
        (json.dumps(switch_body(path="items")), "starting with '/'"),
        (json.dumps(switch_body(mode="sideways")), "'mode' is one of legacy, new, canary"),
        (json.dumps(switch_body(mode="canary")), "canary needs a 'percent'"),
        (json.dumps(switch_body(mode="canary", percent="5")), "'percent' is a number"),
        (json.dumps(switch_body(mode="canary", percent=True)), "'percent' is a number"),
        (json.dumps(switch_body(mode="canary", percent=250)), "between 0 and 100"),
        (json.dumps(switch_body(percent=5)), "only canary takes a percentage"),
        (json.dumps(switch_body(mode="default", percent=5)), "'default' takes no percent"),
        (json.dumps(switch_body(reason="")), "needs a reason"),
        (json.dumps(switch_body(reason=None)), "'reason' is a string"),
        (json.dumps(switch_body(actor=5)), "'actor' is a string"),
        (json.dumps(switch_body(path="/nowhere")), "unknown route 'GET /nowhere'"),
        (json.dumps(switch_body(path="/reports", mode="new")), "the new side has no such route"),
    ],
)
async def test_bad_switches_are_400_never_500(
    client: httpx.AsyncClient, store: StateStore, body: str | bytes, message: str
) -> None:
    response = await client.post(
        f"{PREFIX}/switch",
        headers={**AUTH, "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
    assert store.read_version() == 0
    assert store.read_state().overrides.get(LEGACY_ONLY) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "many"}, "'limit' is a whole number"),
        ({"limit": "0"}, "between 1 and 1000"),
        ({"limit": "1001"}, "between 1 and 1000"),
        ({"rout": "GET /items"}, "unknown query parameter 'rout'"),
    ],
)
async def test_bad_history_queries_are_400(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await client.get(f"{PREFIX}/history", headers=AUTH, params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]


async def test_a_body_over_64_kib_is_413(client: httpx.AsyncClient, store: StateStore) -> None:
    big = json.dumps(switch_body(reason="x" * MAX_BODY))
    response = await client.post(f"{PREFIX}/switch", headers=AUTH, content=big)
    assert response.status_code == 413
    assert "limited to 65536 bytes" in response.json()["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(5):
            yield b" " * (MAX_BODY // 4)

    streamed = await client.post(f"{PREFIX}/switch", headers=AUTH, content=chunks())
    assert streamed.status_code == 413
    assert store.read_version() == 0


async def test_unknown_paths_404_and_wrong_methods_405(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{PREFIX}/nothing", headers=AUTH)).status_code == 404
    assert (await client.get(f"{PREFIX}", headers=AUTH)).status_code == 404
    assert (await client.get("/elsewhere", headers=AUTH)).status_code == 404
    wrong = await client.get(f"{PREFIX}/switch", headers=AUTH)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert (await client.post(f"{PREFIX}/status", headers=AUTH)).status_code == 405


async def test_store_calls_run_off_the_event_loop_thread(
    client: httpx.AsyncClient, store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real: Callable[..., Any] = store.history

    def history(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "history", history)
    assert (await client.get(f"{PREFIX}/history", headers=AUTH)).status_code == 200
    assert threads and threads[0] is not threading.current_thread()


async def test_an_unreachable_store_is_503_with_retry_after(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'missing' / 'state.db'}")
    async with client_for(AdminAPI(store, TOKEN)) as client:
        for response in [
            await client.get(f"{PREFIX}/status", headers=AUTH),
            await client.post(f"{PREFIX}/switch", headers=AUTH, json=switch_body()),
        ]:
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert "unavailable" in response.json()["error"]
    store.dispose()


async def test_a_custom_prefix(store: StateStore) -> None:
    async with client_for(AdminAPI(store, TOKEN, prefix="/ops/cutover/")) as client:
        assert (await client.get("/ops/cutover/status", headers=AUTH)).status_code == 200
        assert (await client.get(f"{PREFIX}/status", headers=AUTH)).status_code == 404
