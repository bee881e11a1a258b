"""X-Request-ID: a safe incoming id is kept, anything else replaced by a fresh unique one, and the
id reaches both sides (the WSGI environ, the FastAPI request's headers and state) and the client."""

from __future__ import annotations

import importlib
import os
import re
import warnings
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.types import Receive, Scope, Send

from cutover.observe.request_id import (
    new_request_id,
    request_id,
    response_with_request_id,
    send_with_request_id,
    tag_request,
    with_request_id,
)
from cutover.wsgi import build_environ

GENERATED = re.compile(rb"[0-9a-f]{32}")
# The module, not the function the package re-exports under the same name.
request_id_module = importlib.import_module("cutover.observe.request_id")


def http_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/1",
        "raw_path": b"/items/1",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "state": {"from_lifespan": 1},
    }


@pytest.mark.parametrize(
    "value",
    [
        b"5f0c6d2e-8a7b-4c1d-9e2f-0123456789ab",
        b"a",
        b"A" * 128,
        b"req.1_2~3:4/5+6=7-8",
    ],
)
def test_a_safe_incoming_id_is_kept(value: bytes) -> None:
    assert request_id([(b"host", b"x"), (b"x-request-id", value)]) == value


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"A" * 129,
        b"has space",
        b"line\nbreak",
        b'quote"d',
        b"semi;colon",
        b"caf\xc3\xa9",
        b"<script>",
    ],
)
def test_an_unsafe_incoming_id_is_replaced(value: bytes) -> None:
    rid = request_id([(b"x-request-id", value)])
    assert rid != value
    assert GENERATED.fullmatch(rid)


def test_the_first_incoming_id_decides() -> None:
    assert request_id([(b"x-request-id", b"first"), (b"x-request-id", b"second")]) == b"first"
    replaced = request_id([(b"x-request-id", b"bad value"), (b"x-request-id", b"second")])
    assert GENERATED.fullmatch(replaced)


def test_without_an_incoming_id_one_is_generated() -> None:
    assert GENERATED.fullmatch(request_id([(b"host", b"x")]))
    assert GENERATED.fullmatch(request_id([]))


def test_generated_ids_are_unique_over_10_000_requests() -> None:
    ids = {request_id([]) for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(GENERATED.fullmatch(rid) for rid in ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_does_not_repeat_its_parents_ids() -> None:
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, on 3.12+
        pid = os.fork()
    if pid == 0:  # the child: report its next id and leave without running pytest's teardown
        try:
            os.write(write_end, new_request_id())
        finally:
            os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 64)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert GENERATED.fullmatch(child_id)
    assert child_id != new_request_id()


def test_reseeding_drops_the_ids_drawn_before_the_fork() -> None:
    new_request_id()  # the pool now holds ids drawn in this process
    expected = request_id_module._pool[-1]
    request_id_module._reseed()
    assert request_id_module._pool == []
    assert new_request_id() != expected


def test_ids_are_unique_across_blocks() -> None:
    ids = {new_request_id() for _ in range(2500)}  # ids come 1,024 to a block
    assert len(ids) == 2500
    assert all(GENERATED.fullmatch(rid) for rid in ids)


def test_tagging_tags_the_requests_own_scope_without_copying() -> None:
    scope = http_scope([(b"host", b"x")])
    state = scope["state"]
    rid, declares_body = tag_request(scope)
    assert scope["state"] is state
    assert scope["headers"] == [(b"host", b"x"), (b"x-request-id", rid)]
    assert state["request_id"] == rid.decode()
    assert not declares_body


@pytest.mark.parametrize(
    ("headers", "declares_body"),
    [
        ([(b"content-length", b"0")], True),
        ([(b"x-request-id", b"abc"), (b"transfer-encoding", b"chunked")], True),
        ([(b"x-request-id", b"bad value"), (b"content-length", b"3")], True),
        ([(b"x-request-id", b"abc"), (b"accept", b"*/*")], False),
    ],
)
def test_tagging_tells_whether_a_body_is_declared_whatever_the_id(
    headers: list[tuple[bytes, bytes]], declares_body: bool
) -> None:
    scope = http_scope(list(headers))
    rid, declared = tag_request(scope)
    assert declared is declares_body
    assert [value for name, value in scope["headers"] if name == b"x-request-id"] == [rid]


def test_tagging_keeps_the_first_valid_incoming_id() -> None:
    scope = http_scope([(b"x-request-id", b"first"), (b"x-request-id", b"second")])
    rid, _ = tag_request(scope)
    assert rid == b"first"


def test_the_scope_carries_the_id_once_and_the_servers_scope_is_untouched() -> None:
    headers = [
        (b"host", b"x"),
        (b"x-request-id", b"bad value"),
        (b"accept", b"*/*"),
        (b"x-request-id", b"another"),
    ]
    scope = http_scope(list(headers))
    server_state = scope["state"]
    tagged = with_request_id(scope, b"abc")
    assert tagged["headers"] == [(b"host", b"x"), (b"accept", b"*/*"), (b"x-request-id", b"abc")]
    assert tagged["state"] == {"from_lifespan": 1, "request_id": "abc"}
    assert tagged["state"] is not server_state
    assert scope["headers"] == headers
    assert server_state == {"from_lifespan": 1}
    assert {key: value for key, value in tagged.items() if key not in ("headers", "state")} == {
        key: value for key, value in scope.items() if key not in ("headers", "state")
    }


def test_a_scope_without_state_gets_one() -> None:
    scope = http_scope([])
    del scope["state"]
    assert with_request_id(scope, b"abc")["state"] == {"request_id": "abc"}


def test_the_wsgi_environ_gets_the_id() -> None:
    scope = with_request_id(http_scope([(b"x-request-id", b"bad value")]), b"abc")
    environ = build_environ(scope)
    assert environ["HTTP_X_REQUEST_ID"] == "abc"


@pytest.mark.anyio
async def test_the_fastapi_request_and_the_client_get_the_id() -> None:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, Any]:
        return {"header": request.headers["x-request-id"], "state": request.state.request_id}

    async def tagged(scope: Scope, receive: Receive, send: Send) -> None:
        """What the gateway does around either side."""
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        rid = request_id(scope["headers"])
        await app(with_request_id(scope, rid), receive, send_with_request_id(send, rid))

    transport = httpx.ASGITransport(app=tagged)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        kept = await client.get("/items/1", headers={"X-Request-ID": "client-chosen-1"})
        generated = await client.get("/items/1", headers={"X-Request-ID": "not safe!"})
    assert kept.json() == {"header": "client-chosen-1", "state": "client-chosen-1"}
    assert kept.headers["x-request-id"] == "client-chosen-1"
    rid = generated.headers["x-request-id"]
    assert GENERATED.fullmatch(rid.encode())
    assert generated.json() == {"header": rid, "state": rid}


def test_the_response_carries_the_gateways_id_only() -> None:
    start: dict[str, Any] = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain"), (b"X-Request-ID", b"the apps own")],
    }
    tagged = response_with_request_id(start, b"abc")
    assert tagged["headers"] == [(b"content-type", b"text/plain"), (b"x-request-id", b"abc")]
    assert start["headers"][1] == (b"X-Request-ID", b"the apps own")
    body = {"type": "http.response.body", "body": b"x"}
    assert response_with_request_id(body, b"abc") is body
    bare = response_with_request_id({"type": "http.response.start", "status": 204}, b"a")
    assert bare["headers"] == [(b"x-request-id", b"a")]
