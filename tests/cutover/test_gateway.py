"""The gateway answers as the Flask app did before the port: byte for byte where Flask answered
for a route whose code is now deleted, and with one Allow list for a path split across sides."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from flask import Flask
from packaging.version import Version

from cutover import Gateway
from tests.cutover.stub_routing_apps import (
    LIFESPAN_EVENTS,
    call,
    call_wsgi,
    http_scope,
    make_legacy,
    make_new,
    run_asgi,
)

pytestmark = pytest.mark.anyio

FLASK_HAS_AUTOMATIC_OPTIONS_SETTING = Version(version("flask")) >= Version("3.1")


@pytest.fixture
def before() -> Flask:
    """The legacy app before the port, with the routes whose code was deleted since."""
    return make_legacy(before_port=True)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """The legacy app after the port, behind the gateway with the FastAPI ports."""
    gateway = Gateway(make_legacy(), make_new())
    yield gateway
    gateway.bridge.close()


def allow_set(response: httpx.Response) -> list[str]:
    """The Allow header's methods; Flask's order comes from a set, so compare sorted."""
    return sorted(response.headers["allow"].split(", "))


def same_headers(ours: httpx.Response, flask: httpx.Response, *names: str) -> None:
    for name in names:
        assert ours.headers.get(name) == flask.headers.get(name), name


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/reports"),
        ("GET", "/reports?x=1&y=%C3%A9"),
        ("POST", "/reports"),  # Flask: 404, the rule does not take POST
        ("GET", "/reports/?q=1"),
        ("GET", "/items//3"),
        ("GET", "/legacy-dir"),
    ],
)
async def test_slash_redirects_match_flask_byte_for_byte(
    gateway: Gateway, before: Flask, method: str, url: str
) -> None:
    expected = call_wsgi(before, method, url)
    response = await call(gateway, method, url)
    assert response.status_code == expected.status_code
    assert response.content == expected.content
    same_headers(response, expected, "location", "content-type", "content-length")


async def test_redirect_location_follows_the_host_header(gateway: Gateway, before: Flask) -> None:
    headers = {"host": "api.example.org:8443"}
    expected = call_wsgi(before, "GET", "/reports", headers=headers)
    response = await call(gateway, "GET", "/reports", headers=headers)
    assert response.headers["location"] == "http://api.example.org:8443/reports/"
    assert response.headers["location"] == expected.headers["location"]


async def test_automatic_head_of_a_deleted_route(gateway: Gateway, before: Flask) -> None:
    expected = call_wsgi(before, "HEAD", "/reports/")
    response = await call(gateway, "HEAD", "/reports/")
    assert (response.status_code, response.content) == (expected.status_code, b"")
    same_headers(response, expected, "content-type", "content-length")


async def test_automatic_options_of_a_deleted_route(gateway: Gateway, before: Flask) -> None:
    expected = call_wsgi(before, "OPTIONS", "/reports/")
    response = await call(gateway, "OPTIONS", "/reports/")
    assert response.status_code == expected.status_code == 200
    assert response.content == expected.content == b""
    assert allow_set(response) == allow_set(expected) == ["GET", "HEAD", "OPTIONS"]
    # The gateway adds its request id to every answer, its own included.
    assert [k for k in response.headers if k != "x-request-id"] == list(expected.headers)
    same_headers(response, expected, "content-type", "content-length")


async def test_405_on_a_deleted_route(gateway: Gateway, before: Flask) -> None:
    expected = call_wsgi(before, "DELETE", "/reports/")
    response = await call(gateway, "DELETE", "/reports/")
    assert response.status_code == expected.status_code == 405
    assert response.content == expected.content
    assert allow_set(response) == allow_set(expected)
    same_headers(response, expected, "content-type", "content-length")


async def test_without_automatic_options_a_deleted_route_answers_options_as_flask() -> None:
    before = make_legacy(before_port=True, automatic_options=False)
    gateway = Gateway(make_legacy(automatic_options=False), make_new())
    try:
        expected = call_wsgi(before, "OPTIONS", "/reports/")
        response = await call(gateway, "OPTIONS", "/reports/")
        assert response.content == expected.content
        # PROVIDE_AUTOMATIC_OPTIONS is Flask 3.1's: an older Flask ignores it and still answers
        # OPTIONS itself, and the gateway follows the Flask it is given.
        if FLASK_HAS_AUTOMATIC_OPTIONS_SETTING:
            assert response.status_code == expected.status_code == 405
            assert allow_set(response) == allow_set(expected) == ["GET", "HEAD"]
        else:
            assert response.status_code == expected.status_code == 200
            assert allow_set(response) == allow_set(expected) == ["GET", "HEAD", "OPTIONS"]
    finally:
        gateway.bridge.close()


@pytest.mark.parametrize("method", ["DELETE", "PUT", "OPTIONS"])
async def test_a_path_split_across_sides_lists_both_sides_methods(
    gateway: Gateway, before: Flask, method: str
) -> None:
    expected = call_wsgi(before, method, "/tickets")
    response = await call(gateway, method, "/tickets")
    assert response.status_code == expected.status_code
    assert response.content == expected.content
    assert allow_set(response) == allow_set(expected) == ["GET", "HEAD", "OPTIONS", "POST"]
    # The legacy app alone would not list POST: its code moved to the port.
    assert "POST" not in call_wsgi(make_legacy(), method, "/tickets").headers["allow"]


async def test_each_side_serves_its_methods_on_a_split_path(gateway: Gateway) -> None:
    assert (await call(gateway, "GET", "/tickets")).json() == {"side": "legacy"}
    created = await call(gateway, "POST", "/tickets")
    assert (created.status_code, created.json()) == (201, {"side": "new"})


async def test_a_path_on_one_side_keeps_its_own_allow(gateway: Gateway) -> None:
    expected = call_wsgi(make_legacy(), "DELETE", "/legacy-dir/")
    response = await call(gateway, "DELETE", "/legacy-dir/")
    assert response.status_code == 405
    assert response.headers["allow"] == expected.headers["allow"]


class Lifespan:
    """Runs an app's lifespan in a task, as a server does, one message at a time."""

    def __init__(self, app: Any, state: dict[str, Any]) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: asyncio.Queue[str] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
        self.task = asyncio.create_task(app(scope, self.incoming.get, self._send))

    async def _send(self, message: dict[str, Any]) -> None:
        await self.sent.put(message["type"])

    async def step(self, message: str) -> str:
        await self.incoming.put({"type": message})
        return await asyncio.wait_for(self.sent.get(), timeout=10)


async def test_lifespan_is_forwarded_to_the_new_app_and_closes_the_bridge() -> None:
    gateway = Gateway(make_legacy(), make_new({"marker": "from lifespan"}))
    LIFESPAN_EVENTS.clear()
    state: dict[str, Any] = {}
    lifespan = Lifespan(gateway, state)
    assert await lifespan.step("lifespan.startup") == "lifespan.startup.complete"
    assert LIFESPAN_EVENTS == ["startup"]
    assert state == {"marker": "from lifespan"}

    scope = http_scope("GET", "/health", state=dict(state))
    replies = await run_asgi(gateway, scope, [{"type": "http.request", "body": b""}])
    assert b'"marker":"from lifespan"' in replies[-1]["body"]
    legacy_scope = http_scope("GET", "/docs")
    replies = await run_asgi(gateway, legacy_scope, [{"type": "http.request", "body": b""}])
    assert replies[0]["status"] == 200

    assert await lifespan.step("lifespan.shutdown") == "lifespan.shutdown.complete"
    await lifespan.task
    assert LIFESPAN_EVENTS == ["startup", "shutdown"]
    with pytest.raises(RuntimeError, match="closed"):
        await run_asgi(gateway, legacy_scope, [{"type": "http.request", "body": b""}])


async def test_without_a_new_app_everything_is_legacy() -> None:
    gateway = Gateway(make_legacy())
    lifespan = Lifespan(gateway, {})
    assert await lifespan.step("lifespan.startup") == "lifespan.startup.complete"
    assert await lifespan.step("lifespan.shutdown") == "lifespan.shutdown.complete"
    await lifespan.task
    gateway = Gateway(make_legacy())
    try:
        assert (await call(gateway, "GET", "/docs")).json() == {"side": "legacy", "page": "docs"}
        assert (await call(gateway, "GET", "/items/3")).json()["side"] == "legacy"
        assert gateway.inventory.served_by_new == 0
    finally:
        gateway.bridge.close()


@pytest.fixture
def unfrozen_heap() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("with_new", [True, False], ids=["with-new", "legacy-only"])
async def test_startup_complete_freezes_the_heap_once_for_both_sides(
    unfrozen_heap: None, with_new: bool
) -> None:
    gateway = Gateway(make_legacy(), make_new() if with_new else None, freeze_startup_heap=True)
    lifespan = Lifespan(gateway, {})
    assert await lifespan.step("lifespan.startup") == "lifespan.startup.complete"
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    assert (await call(gateway, "GET", "/docs")).status_code == 200
    assert (await call(gateway, "GET", "/health" if with_new else "/docs")).status_code == 200
    assert gc.get_freeze_count() == 0
    assert await lifespan.step("lifespan.shutdown") == "lifespan.shutdown.complete"
    await lifespan.task


async def test_without_lifespan_the_first_request_freezes_the_heap(unfrozen_heap: None) -> None:
    gateway = Gateway(make_legacy(), make_new(), freeze_startup_heap=True)
    try:
        assert (await call(gateway, "GET", "/health")).status_code == 200
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        assert (await call(gateway, "GET", "/docs")).status_code == 200
        assert gc.get_freeze_count() == 0
    finally:
        gateway.bridge.close()


async def test_the_heap_freeze_is_off_unless_asked_for(unfrozen_heap: None) -> None:
    gateway = Gateway(make_legacy(), make_new())
    lifespan = Lifespan(gateway, {})
    assert await lifespan.step("lifespan.startup") == "lifespan.startup.complete"
    assert (await call(gateway, "GET", "/health")).status_code == 200
    assert (await call(gateway, "GET", "/docs")).status_code == 200
    assert gc.get_freeze_count() == 0
    assert await lifespan.step("lifespan.shutdown") == "lifespan.shutdown.complete"
    await lifespan.task
