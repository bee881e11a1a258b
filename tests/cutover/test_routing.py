"""The per-request decision: native only where the legacy app's converters would match too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from cutover import Gateway
from cutover.docs import relocate_docs
from cutover.routes import legacy_routes, new_routes
from cutover.routing import Action, Router
from tests.cutover.stub_routing_apps import (
    call,
    call_wsgi,
    http_scope,
    make_legacy,
    make_new,
    plain_legacy,
    run_asgi,
)

pytestmark = pytest.mark.anyio

THING = "6f1c2a1e-8a0b-4d1c-9f3e-2b7a4c5d6e7f"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gateway = Gateway(make_legacy(), make_new())
    yield gateway
    gateway.bridge.close()


@pytest.fixture
def router() -> Router:
    legacy = make_legacy()
    new = make_new()
    relocate_docs(new, "/_cutover")
    return Router(new_routes(new.routes), legacy_routes(legacy.url_map), legacy.url_map)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/42", {"side": "new", "item_id": 42}),
        ("/files/a/b/c.txt", {"side": "new", "name": "a/b/c.txt"}),
        ("/users/bob", {"side": "new", "name": "bob"}),
        ("/prices/2.5", {"side": "new", "value": 2.5}),
        (f"/things/{THING}", {"side": "new", "thing_id": THING}),
    ],
)
async def test_ported_routes_are_served_natively(
    gateway: Gateway, path: str, expected: dict[str, object]
) -> None:
    response = await call(gateway, "GET", path)
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize(
    "path",
    [
        "/items/abc",  # FastAPI alone would answer 422
        "/items/-1",
        "/prices/3",  # Flask's float converter wants a dot
        "/things/not-a-uuid",
        "/users/bob/extra",
        "/files/",  # Starlette's path convertor would take the empty string
        "/nowhere",
    ],
)
async def test_paths_the_legacy_converters_reject_keep_flasks_answer(
    gateway: Gateway, path: str
) -> None:
    expected = call_wsgi(make_legacy(), "GET", path)
    response = await call(gateway, "GET", path)
    assert expected.status_code == 404
    assert response.status_code == 404
    assert response.content == expected.content
    assert response.headers["content-type"] == expected.headers["content-type"]


async def test_one_method_ported_leaves_the_others_to_legacy(gateway: Gateway) -> None:
    assert (await call(gateway, "GET", "/split")).json() == {"side": "new"}
    assert (await call(gateway, "POST", "/split")).json() == {"side": "legacy"}


async def test_a_string_legacy_parameter_lets_the_typed_port_answer(gateway: Gateway) -> None:
    # Logged as a type conflict at construction: Flask took any string here.
    assert (await call(gateway, "GET", "/orders/7")).json() == {"side": "new", "order_id": 7}
    assert (await call(gateway, "GET", "/orders/abc")).status_code == 422


async def test_head_follows_a_native_get(gateway: Gateway) -> None:
    get = await call(gateway, "GET", "/items/3")
    head = await call(gateway, "HEAD", "/items/3")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == get.headers["content-type"]


def test_decisions(router: Router) -> None:
    assert router.decide("GET", "/items/3").action is Action.NEW
    assert router.decide("GET", "/items/x").action is Action.LEGACY
    assert router.decide("HEAD", "/items/3").action is Action.NEW_HEAD
    assert router.decide("POST", "/split").action is Action.LEGACY
    assert router.decide("GET", "/reports").action is Action.REDIRECT
    assert router.decide("GET", "/legacy-dir").action is Action.LEGACY
    assert router.decide("GET", "/docs").action is Action.LEGACY
    assert router.decide("GET", "/_cutover/docs").action is Action.NEW
    options = router.decide("OPTIONS", "/reports/")
    assert options.action is Action.OPTIONS
    assert sorted((options.allow or "").split(", ")) == ["GET", "HEAD", "OPTIONS"]
    not_allowed = router.decide("DELETE", "/reports/")
    assert not_allowed.action is Action.METHOD_NOT_ALLOWED
    split = router.decide("DELETE", "/tickets")
    assert split.action is Action.LEGACY
    assert sorted((split.allow or "").split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]
    # A path served by one side only keeps the legacy app's own Allow.
    assert router.decide("DELETE", "/docs").allow is None


def test_decisions_are_cached_and_the_cache_is_bounded() -> None:
    new = make_new()
    legacy = make_legacy()
    router = Router(
        new_routes(new.routes), legacy_routes(legacy.url_map), legacy.url_map, cache_size=3
    )
    first = router.decide("GET", "/items/1")
    assert router.decide("GET", "/items/1") is first
    for n in range(2, 10):
        router.decide("GET", f"/items/{n}")
    assert router.cached_decisions == 3
    assert router.decide("GET", "/items/1").action is Action.NEW


async def test_plain_wsgi_app_native_routes_win_and_everything_else_falls_through() -> None:
    gateway = Gateway(plain_legacy, make_new())
    try:
        assert (await call(gateway, "GET", "/items/3")).json() == {"side": "new", "item_id": 3}
        # No converters to consult: the port's own validation answers.
        assert (await call(gateway, "GET", "/items/abc")).status_code == 422
        assert (await call(gateway, "POST", "/split")).text == "plain POST /split"
        assert (await call(gateway, "GET", "/reports")).text == "plain GET /reports"
        assert (await call(gateway, "OPTIONS", "/reports/")).text == "plain OPTIONS /reports/"
        assert (await call(gateway, "DELETE", "/tickets")).text == "plain DELETE /tickets"
        assert (await call(gateway, "GET", "/docs")).text == "plain GET /docs"
        assert gateway.inventory.total == gateway.inventory.served_by_new
    finally:
        gateway.bridge.close()


async def test_the_root_path_is_not_part_of_the_decision(gateway: Gateway) -> None:
    scope = http_scope("GET", "/prefix/items/3", root_path="/prefix")
    sent = await run_asgi(gateway, scope, [{"type": "http.request", "body": b""}])
    assert sent[0]["status"] == 200
    assert sent[-1]["body"] == b'{"side":"new","item_id":3}'


async def test_websocket_scopes_go_to_the_new_app(gateway: Gateway) -> None:
    scope = {**http_scope("GET", "/ws"), "type": "websocket", "scheme": "ws", "subprotocols": []}
    del scope["method"]
    sent = await run_asgi(gateway, scope, [{"type": "websocket.connect"}])
    assert [message["type"] for message in sent] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert sent[1]["text"] == "new socket"


async def test_mounted_apps_serve_every_method_under_their_prefix() -> None:
    mounted = FastAPI()

    @mounted.api_route("/{rest:path}", methods=["GET", "PUT"])
    async def anything(rest: str) -> dict[str, str]:
        return {"side": "mounted", "rest": rest}

    new = make_new()
    new.mount("/sub", mounted)
    gateway = Gateway(make_legacy(), new)
    try:
        response = await call(gateway, "PUT", "/sub/a/b")
        assert response.json() == {"side": "mounted", "rest": "a/b"}
        assert any(row.method == "*" for row in gateway.inventory.rows)
    finally:
        gateway.bridge.close()
