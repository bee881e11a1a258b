"""The merged document at /_cutover/openapi.json: both sides, their modes, valid OpenAPI 3.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cutover import Gateway
from cutover.control.modes import Mode, RouteMode
from tests.cutover.openapi.stub_openapi import gateway as make_gateway
from tests.cutover.stub_routing_apps import call

pytestmark = pytest.mark.anyio


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gateway = make_gateway(default_modes={"GET /users/{user_id}": RouteMode(Mode.SHADOW)})
    yield gateway
    gateway.bridge.close()


async def _document(gateway: Gateway) -> dict[str, Any]:
    answer = await call(gateway, "GET", "/_cutover/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document: dict[str, Any] = answer.json()
    return document


async def test_both_sides_are_in_one_document(gateway: Gateway) -> None:
    document = await _document(gateway)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "ported"
    paths = document["paths"]
    # The port's path keeps FastAPI's parameter name; legacy's DELETE joins it, renamed.
    assert "/users/{user_id}" not in paths
    user = paths["/users/{uid}"]
    assert user["get"]["operationId"] == "get_user_users__uid__get"
    assert user["get"]["tags"] == ["users"]
    assert user["delete"]["parameters"][0]["name"] == "uid"
    assert user["delete"]["x-cutover-documented-by"] == "legacy"
    assert paths["/shop/items/{item_id}"]["get"]["tags"] == ["shop"]
    assert "User" in document["components"]["schemas"]
    assert not any(path.startswith("/_cutover") for path in paths)
    assert {tag["name"] for tag in document["tags"]} >= {"users", "shop", "legacy"}


async def test_every_operation_carries_its_side_and_mode(gateway: Gateway) -> None:
    paths = (await _document(gateway))["paths"]
    shadowed = paths["/users/{uid}"]["get"]
    assert shadowed["x-cutover-route"] == "GET /users/{user_id}"
    assert (shadowed["x-cutover-mode"], shadowed["x-cutover-side"]) == ("shadow", "legacy")
    assert shadowed["x-cutover-match-rate"] is None  # shadowed, nothing compared yet
    assert shadowed["x-cutover-shadow-compared"] == 0
    legacy = paths["/users/{uid}"]["delete"]
    assert (legacy["x-cutover-mode"], legacy["x-cutover-side"]) == ("legacy", "legacy")
    assert "x-cutover-match-rate" not in legacy


async def test_a_canary_names_both_sides_and_its_percentage() -> None:
    gateway = make_gateway(default_modes={"GET /users/{user_id}": RouteMode(Mode.CANARY, 25)})
    try:
        operation = (await _document(gateway))["paths"]["/users/{uid}"]["get"]
    finally:
        gateway.bridge.close()
    assert operation["x-cutover-mode"] == "canary"
    assert operation["x-cutover-side"] == "both"
    assert operation["x-cutover-canary-percent"] == 25


async def test_the_document_is_valid_openapi_3_1(gateway: Gateway) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(await _document(gateway))


async def test_the_docs_page_shows_the_merged_document(gateway: Gateway) -> None:
    page = await call(gateway, "GET", "/_cutover/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "'/_cutover/openapi.json'" in page.text
    assert "ported (cutover)" in page.text
    head = await call(gateway, "HEAD", "/_cutover/openapi.json")
    assert (head.status_code, head.content) == (200, b"")
    refused = await call(gateway, "POST", "/_cutover/openapi.json")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")


async def test_a_gateway_without_a_new_app_documents_the_legacy_app() -> None:
    from tests.cutover.openapi.stub_openapi import make_legacy

    gateway = Gateway(make_legacy())
    try:
        document = await _document(gateway)
    finally:
        gateway.bridge.close()
    assert document["info"]["title"] == "API"
    assert document["paths"]["/users/{user_id}"]["get"]["x-cutover-side"] == "legacy"
    assert "components" not in document


async def test_a_custom_prefix_moves_the_document() -> None:
    gateway = make_gateway(docs_prefix="/internal")
    try:
        assert (await call(gateway, "GET", "/internal/openapi.json")).status_code == 200
        page = await call(gateway, "GET", "/internal/docs")
        assert "'/internal/openapi.json'" in page.text
    finally:
        gateway.bridge.close()
