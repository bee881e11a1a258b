"""The route inventory: one table of both sides, and the warnings logged at construction."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from flask import Flask

from cutover import Gateway, InventoryRow
from cutover.inventory import build_inventory
from cutover.routes import legacy_routes, new_routes, template_key
from tests.cutover.stub_routing_apps import make_legacy, make_new


def small_apps() -> tuple[Flask, FastAPI]:
    legacy = Flask("inventory_legacy", static_folder=None)

    @legacy.route("/a/<int:item_id>", methods=["GET", "POST"])
    def a_item(item_id: int) -> Any:
        return {}

    @legacy.get("/b")
    def b() -> Any:
        return {}

    @legacy.route("/c", methods=["OPTIONS"])
    def c_options() -> Any:
        return {}

    new = FastAPI(openapi_url=None)
    router = APIRouter(prefix="/a")

    @router.get("/{item_id}")
    async def new_a_item(item_id: int) -> dict[str, Any]:
        return {}

    new.include_router(router)

    @new.put("/z")
    async def new_z() -> dict[str, Any]:
        return {}

    return legacy, new


def endpoint(name: str) -> str:
    return f"{__name__}:small_apps.<locals>.{name}"


def test_rows_join_both_sides_sorted_by_path_then_method() -> None:
    legacy, new = small_apps()
    inventory = build_inventory(legacy_routes(legacy.url_map), new_routes(new.routes))
    assert inventory.rows == (
        InventoryRow("GET", "/a/{item_id}", "a_item", endpoint("new_a_item"), "new"),
        InventoryRow("POST", "/a/{item_id}", "a_item", None, "legacy"),
        InventoryRow("GET", "/b", "b", None, "legacy"),
        InventoryRow("OPTIONS", "/c", "c_options", None, "legacy"),
        InventoryRow("PUT", "/z", None, endpoint("new_z"), "new"),
    )
    assert (inventory.served_by_new, inventory.total) == (2, 5)
    assert inventory.progress() == "2/5 routes served by the new app (40%)"
    assert [row.path for row in inventory.new_only] == ["/z"]
    assert inventory.type_conflicts == ()


def test_automatic_head_and_options_are_not_listed() -> None:
    gateway = Gateway(make_legacy(), make_new())
    try:
        methods = {row.method for row in gateway.inventory.rows}
        assert methods == {"GET", "POST"}
        assert not any(row.path.startswith("/_cutover") for row in gateway.inventory.rows)
    finally:
        gateway.bridge.close()


@pytest.mark.parametrize(
    ("flask_rule", "fastapi_path"),
    [
        ("/items/<int:item_id>", "/items/{item_id}"),
        ("/items/<item_id>", "/items/{id}"),
        ("/f/<path:name>/raw", "/f/{name:path}/raw"),
    ],
)
def test_templates_compare_equal_across_syntaxes(flask_rule: str, fastapi_path: str) -> None:
    legacy = Flask("keys", static_folder=None)
    legacy.add_url_rule(flask_rule, "view", lambda **kwargs: "")
    new = FastAPI()
    new.add_api_route(fastapi_path, lambda: {})
    [old] = legacy_routes(legacy.url_map)
    [port] = [route for route in new_routes(new.routes) if route.path == fastapi_path]
    assert old.key == port.key
    assert template_key("/items/{a}/{b}") == "/items/{}/{}"


def test_differently_typed_parameters_are_logged_as_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="cutover"):
        gateway = Gateway(make_legacy(), make_new())
    gateway.bridge.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "cutover: parameter types differ: GET /orders/{order_id}: parameter 1 is str in the "
        "legacy app but int in the new app"
    ]
    [conflict] = gateway.inventory.type_conflicts
    assert (conflict.legacy_type, conflict.new_type) == (str, int)


def test_new_endpoints_are_listed_at_info_level(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cutover"):
        gateway = Gateway(make_legacy(), make_new())
    gateway.bridge.close()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    new_endpoints = [message for message in infos if "replaces nothing" in message]
    assert len(new_endpoints) == 3
    assert any("GET /health" in message for message in new_endpoints)
    assert any("POST /tickets" in message for message in new_endpoints)
    assert any("served by the new app" in message for message in infos)


def test_docs_prefix_shadowing_a_legacy_route_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    legacy = make_legacy()
    legacy.add_url_rule("/_cutover/docs", "shadowed", lambda: "legacy")
    with caplog.at_level(logging.WARNING, logger="cutover"):
        Gateway(legacy, make_new()).bridge.close()
    assert any("/_cutover/docs shadows" in r.getMessage() for r in caplog.records)


def test_as_dicts_keeps_every_column() -> None:
    legacy, new = small_apps()
    inventory = build_inventory(legacy_routes(legacy.url_map), new_routes(new.routes))
    assert inventory.as_dicts()[0] == {
        "method": "GET",
        "path": "/a/{item_id}",
        "legacy_endpoint": "a_item",
        "new_endpoint": endpoint("new_a_item"),
        "side": "new",
    }
