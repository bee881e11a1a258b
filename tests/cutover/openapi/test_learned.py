"""What the traffic teaches the document: sampled answers and request bodies, their schemas
inferred and examples redacted, bounded, marked inferred; the sampling's countdown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from cutover import Gateway
from cutover.control.tables import openapi_samples_table
from cutover.openapi.infer import infer, infer_all
from cutover.openapi.sampling import NEVER, ResponseSampler
from tests.cutover.openapi.stub_openapi import gateway as make_gateway

pytestmark = pytest.mark.anyio


@pytest.fixture
def gateway(state_url: str) -> Iterator[Gateway]:
    gateway = make_gateway(state_url=state_url, openapi_sample_every=2)
    assert gateway.control.store is not None
    gateway.control.store.create_tables()
    yield gateway
    gateway.bridge.close()
    gateway.control.store.dispose()


async def _send(gateway: Gateway, method: str, url: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, url, **kwargs)


async def test_answers_and_request_bodies_are_learned_and_marked_inferred(
    gateway: Gateway,
) -> None:
    for number in (1, 2):
        assert (await _send(gateway, "GET", f"/shop/items/{number}")).status_code == 200
    assert (await _send(gateway, "GET", "/shop/items/999")).status_code == 404
    created = await _send(gateway, "POST", "/shop/items", json={"name": "cog", "qty": 2})
    assert created.status_code == 201
    await gateway.publisher.flush()
    operations = gateway.openapi.document()["paths"]
    item = operations["/shop/items/{item_id}"]["get"]
    assert set(item["responses"]) == {"200", "404"}  # the placeholder `default` is gone
    ok = item["responses"]["200"]
    assert ok["x-cutover-inferred"] is True
    media = ok["content"]["application/json"]
    assert media["x-cutover-inferred"] is True
    assert media["schema"] == {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "price": {"type": "number"},
        },
        "required": ["id", "name", "price", "tags"],
    }
    assert media["example"]["id"] in (1, 2)
    assert item["responses"]["404"]["content"]["application/json"]["example"] == {
        "error": "no such item"
    }
    create = operations["/shop/items"]["post"]
    body = create["requestBody"]
    assert body["x-cutover-inferred"] is True and body["required"] is False
    assert body["content"]["application/json"]["schema"]["required"] == ["name", "qty"]
    assert create["responses"]["201"]["content"]["application/json"]["example"]["api_key"] == (
        "[redacted]"
    )


async def test_a_ported_route_keeps_its_own_responses(gateway: Gateway) -> None:
    assert (await _send(gateway, "GET", "/users/5")).status_code == 200
    assert (await _send(gateway, "GET", "/users/0")).status_code == 404
    await gateway.publisher.flush()
    responses = gateway.openapi.document()["paths"]["/users/{uid}"]["get"]["responses"]
    assert "x-cutover-inferred" not in responses["200"]  # FastAPI's declaration stands
    assert "x-cutover-inferred" not in responses["422"]
    assert responses["404"]["x-cutover-inferred"] is True  # what it does not declare is added


async def test_no_secret_reaches_the_samples_or_the_document(
    gateway: Gateway, state_url: str
) -> None:
    answer = await _send(
        gateway,
        "POST",
        "/login",
        json={"user": "ann", "password": "hunter2"},
        headers={"Authorization": "Bearer abc.def", "Cookie": "session=xyz"},
    )
    assert answer.status_code == 200
    await gateway.publisher.flush()
    engine = create_engine(state_url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(select(openapi_samples_table))]
    engine.dispose()
    assert rows
    stored = repr(rows) + repr(gateway.openapi.document())
    for secret in ("hunter2", "s3cr3t-token", "abc.def", "xyz"):
        assert secret not in stored


async def test_samples_are_bounded_per_status_and_route(state_url: str) -> None:
    gateway = make_gateway(state_url=state_url, openapi_sample_every=1, openapi_max_samples=4)
    assert gateway.control.store is not None
    gateway.control.store.create_tables()
    try:
        for number in range(1, 8):
            await _send(gateway, "GET", f"/shop/items/{number}")
            await gateway.publisher.flush()
        for _ in range(3):
            await _send(gateway, "GET", "/shop/items/999")
            await gateway.publisher.flush()
        engine = create_engine(state_url)
        with engine.connect() as connection:
            c = openapi_samples_table.c
            statuses = list(connection.execute(select(c.status).order_by(c.id)).scalars())
        engine.dispose()
    finally:
        gateway.bridge.close()
        gateway.control.store.dispose()
    assert len(statuses) == 4 and statuses.count(200) <= 3


async def test_unmatched_paths_and_a_learning_turned_off_sample_nothing() -> None:
    sampler = ResponseSampler(every=0)
    receive: Any = object()
    send: Any = object()
    assert sampler.start("GET /x", {"method": "GET"}, receive, send) == (receive, send)
    assert sampler.due["GET /x"] == NEVER
    assert sampler.due[None] == NEVER


def test_the_countdown_samples_the_first_few_then_one_in_n() -> None:
    sampler = ResponseSampler(every=5, first=2)
    sampled = []
    for number in range(12):
        if left := sampler.due.get("GET /x", 0):
            sampler.due["GET /x"] = left - 1
        else:
            sampler.start("GET /x", {"method": "GET", "headers": []}, None, None)  # type: ignore[arg-type]
            sampled.append(number)
    assert sampled == [0, 1, 6, 11]
    sampler.arm("GET /x")
    assert sampler.due["GET /x"] == 0


def test_inferred_schemas_merge_so_every_sample_fits() -> None:
    assert infer({"a": 1}) == {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
    }
    merged = infer_all([{"a": 1, "b": None}, {"a": 1.5}, {"a": 2, "c": [True]}])
    assert merged == {
        "type": "object",
        "properties": {
            "a": {"type": "number"},
            "b": {"type": "null"},
            "c": {"type": "array", "items": {"type": "boolean"}},
        },
        "required": ["a"],
    }
    assert infer_all([1, "x", None]) == {"type": ["integer", "null", "string"]}
    assert infer_all([[], [1]]) == {"type": "array", "items": {"type": "integer"}}
    assert infer_all([]) is None


async def test_a_document_with_learned_answers_is_valid_openapi_3_1(gateway: Gateway) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    await _send(gateway, "GET", "/shop/items/1")
    await _send(gateway, "POST", "/shop/items", json={"name": "cog"})
    await _send(gateway, "DELETE", "/users/3")
    await gateway.publisher.flush()
    validator.validate(gateway.openapi.document())
