"""One body limit on every route: refused by Content-Length up front, counted while chunked."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from flask import Flask
from flask import request as flask_request
from starlette.exceptions import HTTPException as StarletteHTTPException
from werkzeug.exceptions import RequestEntityTooLarge

from cutover import Gateway
from cutover.routing import Action
from cutover.wsgi import WSGIBridge
from legacy_flask import create_app as create_legacy_app
from new_fastapi import create_app as create_new_app
from shared_models import Settings
from tests.cutover.stub_apps import plain_wsgi_app
from tests.cutover.stub_routing_apps import call
from tests.servers import Server, rss_kib, serve_uvicorn

MIB = 1024 * 1024
HUGE = 200 * MIB
BLOCK = b"b" * (64 * 1024)
RSS_GROWTH_LIMIT_KIB = 20 * 1000 * 1000 // 1024  # 20 MB
WAIT = 30.0


@pytest.fixture(scope="module")
def limits_server() -> Iterator[Server]:
    with serve_uvicorn("tests.cutover.stub_gateways:limits_gateway", "--factory") as server:
        yield server


def _read_response(sock: socket.socket, into: list[bytes], done: threading.Event) -> None:
    """Read one response (head and Content-Length body) or until the server closes."""
    buffer = b""
    try:
        while True:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                length = 0
                for line in buffer[:head_end].decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if len(buffer) >= head_end + 4 + length:
                    break
            data = sock.recv(65536)
            if not data:
                break
            buffer += data
    except OSError:
        pass
    finally:
        into.append(buffer)
        done.set()


def push_huge_body(server: Server, path: str, *, chunked: bool) -> tuple[bytes, int]:
    """POST a 200 MiB body generated block by block, reading the answer while it goes out.

    Returns the raw response and the peak RSS growth of the server in KiB. The client keeps
    pushing until everything is sent or the server closes, as a careless client would.
    """
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % HUGE
    head = b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n%s\r\n\r\n"
    before = rss_kib(server.pid)
    peaks = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peaks.append(rss_kib(server.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    answer: list[bytes] = []
    answered = threading.Event()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
            reader = threading.Thread(target=_read_response, args=(sock, answer, answered))
            reader.start()
            frame = b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK) if chunked else BLOCK
            try:
                sock.sendall(head % (path.encode(), framing))
                for _ in range(HUGE // len(BLOCK)):
                    sock.sendall(frame)
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server closed after answering
            answered.wait(WAIT)
            reader.join(WAIT)
    finally:
        stop.set()
        sampler.join()
    return answer[0] if answer else b"", max(peaks) - before


def warm_up(server: Server) -> None:
    """One small request per route, so lazily built state is not counted as growth."""
    for path in ("/legacy/whole", "/native/whole"):
        for chunked in (False, True):
            with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
                framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: 2"
                body = b"2\r\nok\r\n0\r\n\r\n" if chunked else b"ok"
                sock.sendall(
                    b"POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n\r\n%s"
                    % (path.encode(), framing, body)
                )
                while sock.recv(65536):
                    pass


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/native/whole", "/legacy/whole"], ids=["native", "legacy"])
def test_a_200mb_body_is_refused_with_bounded_memory(
    limits_server: Server, path: str, chunked: bool
) -> None:
    warm_up(limits_server)
    raw, growth = push_huge_body(limits_server, path, chunked=chunked)
    print(f"{path} chunked={chunked}: RSS growth {growth} KiB, answer {raw[:15]!r}")
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:200]
    assert growth < RSS_GROWTH_LIMIT_KIB


# --- in process: whose 413 it is, and that nothing past the limit runs -------------------------

LIMIT = 100
ENDPOINT_CALLS: list[str] = []


def make_native(handler: str = "class") -> FastAPI:
    """A FastAPI app whose 413 comes from its own handler, registered as `handler` says."""
    new = FastAPI()

    async def by_class(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse({"native": exc.status_code}, status_code=exc.status_code)

    def by_status(request: Request, exc: Exception) -> Response:
        return JSONResponse({"native-status": 413}, status_code=413)

    if handler == "class":
        new.add_exception_handler(StarletteHTTPException, by_class)
    elif handler == "status":
        new.add_exception_handler(413, by_status)
    else:
        del new.exception_handlers[StarletteHTTPException]

    @new.post("/native")
    async def native(request: Request) -> dict[str, int]:
        ENDPOINT_CALLS.append("native")
        return {"size": len(await request.body())}

    return new


def make_legacy(*, with_handler: bool = True) -> Flask:
    """A Flask app with a 413 handler of its own, and a view that swallows read errors."""
    legacy = Flask("limits_legacy")

    if with_handler:

        @legacy.errorhandler(413)
        def too_large(error: Exception) -> Any:
            return {"legacy": 413}, 413

    @legacy.post("/legacy")
    def whole() -> Any:
        return {"size": len(flask_request.get_data())}

    @legacy.post("/legacy/careless")
    def careless() -> Any:
        try:
            flask_request.get_data()
        except OSError:
            return {"swallowed": True}
        return {"swallowed": False}

    return legacy


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gateway = Gateway(make_legacy(), make_native(), max_body_size=LIMIT)
    yield gateway
    gateway.bridge.close()


async def chunks(*parts: bytes, delay: float = 0.0) -> AsyncIterator[bytes]:
    for part in parts:
        if delay:
            await asyncio.sleep(delay)  # slower than the bridge's tick: it streams the answer
        yield part


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("handler", "expected"),
    [("class", {"native": 413}), ("status", {"native-status": 413})],
)
async def test_native_declared_body_over_the_limit_is_the_apps_413_without_the_endpoint(
    handler: str, expected: dict[str, int]
) -> None:
    gateway = Gateway(make_legacy(), make_native(handler), max_body_size=LIMIT)
    ENDPOINT_CALLS.clear()
    try:
        response = await call(gateway, "POST", "/native", content=b"x" * (LIMIT + 1))
        at_limit = await call(gateway, "POST", "/native", content=b"x" * LIMIT)
    finally:
        gateway.bridge.close()
    assert (response.status_code, response.json()) == (413, expected)
    assert response.headers["connection"] == "close"
    assert ENDPOINT_CALLS == ["native"]  # only the request at the limit ran
    assert at_limit.json() == {"size": LIMIT}


@pytest.mark.anyio
async def test_native_413_without_any_handler_is_plain_text() -> None:
    gateway = Gateway(make_legacy(), make_native("none"), max_body_size=LIMIT)
    try:
        response = await call(gateway, "POST", "/native", content=b"x" * (LIMIT + 1))
    finally:
        gateway.bridge.close()
    assert (response.status_code, response.text) == (413, "Request Entity Too Large")


@pytest.mark.anyio
async def test_native_chunked_body_is_counted_and_cut_at_the_limit(gateway: Gateway) -> None:
    over = await call(gateway, "POST", "/native", content=chunks(b"x" * 60, b"x" * 60))
    under = await call(gateway, "POST", "/native", content=chunks(b"x" * 50, b"x" * 50))
    assert (over.status_code, over.json()) == (413, {"native": 413})
    assert over.headers["connection"] == "close"
    assert (under.status_code, under.json()) == (200, {"size": 100})
    assert "connection" not in under.headers


SLOW = 0.03
# Past the first read (1 MiB) the rest streams to the app's thread, slower than the bridge's
# tick, so the answer is streamed too.
SLOW_PARTS = [b"x" * MIB, b"x" * 65536, *[b"x" * (512 * 1024)] * 3]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "limit", "body", "delay"),
    [
        pytest.param("/legacy", LIMIT, b"x" * (LIMIT + 1), 0, id="declared"),
        pytest.param("/legacy", LIMIT, [b"x" * 60] * 2, 0, id="chunked-within-the-first-read"),
        pytest.param("/legacy", MIB + 1, [b"x" * 65536] * 40, 0, id="chunked-streamed-to-the-app"),
        pytest.param("/legacy", 2 * MIB, SLOW_PARTS, SLOW, id="chunked-slowly"),
        pytest.param("/legacy/careless", MIB + 1, [b"x" * 65536] * 40, 0, id="error-swallowed"),
        pytest.param("/legacy/careless", 2 * MIB, SLOW_PARTS, SLOW, id="error-swallowed-slowly"),
    ],
)
async def test_legacy_body_over_the_limit_is_the_flask_apps_own_413(
    path: str, limit: int, body: bytes | list[bytes], delay: float
) -> None:
    gateway = Gateway(make_legacy(), make_native(), max_body_size=limit)
    content = chunks(*body, delay=delay) if isinstance(body, list) else body
    try:
        response = await call(gateway, "POST", path, content=content)
        at_limit = await call(gateway, "POST", "/legacy", content=chunks(b"x" * limit))
    finally:
        gateway.bridge.close()
    assert (response.status_code, response.json()) == (413, {"legacy": 413})
    assert response.headers["connection"] == "close"
    assert at_limit.json() == {"size": limit}


@pytest.mark.anyio
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
async def test_legacy_413_of_a_plain_wsgi_app_is_werkzeugs_page(chunked: bool) -> None:
    bridge = WSGIBridge(plain_wsgi_app, max_body_size=LIMIT, freeze_startup_heap=False)
    body = b"x" * (LIMIT + 1)
    try:
        response = await call(bridge, "POST", "/", content=chunks(body) if chunked else body)
    finally:
        bridge.close()
    assert response.status_code == 413
    assert response.content == RequestEntityTooLarge().get_body().encode()
    assert response.headers["content-type"] == "text/html; charset=utf-8"


@pytest.fixture
def reference_gateway(tmp_path: Path) -> Iterator[Gateway]:
    """The reference legacy app and its ports: the 413 never reaches a view or the database."""
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    legacy = create_legacy_app({"SQLALCHEMY_DATABASE_URI": url})
    new = create_new_app(Settings(database_url=url))
    gateway = Gateway(legacy, new, max_body_size=LIMIT)
    yield gateway
    gateway.bridge.close()
    new.state.engine.dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
async def test_reference_apps_answer_werkzeugs_413_on_both_sides(
    reference_gateway: Gateway, chunked: bool
) -> None:
    body = b'{"username": "' + b"x" * LIMIT + b'"}'
    answers = {}
    for side, path in (("native", "/api/users"), ("legacy", "/admin/login")):
        action = reference_gateway.router.decide("POST", path).action
        assert action is (Action.NEW if side == "native" else Action.LEGACY)
        answers[side] = await call(
            reference_gateway,
            "POST",
            path,
            content=chunks(body) if chunked else body,
            headers={"Content-Type": "application/json"},
        )
    werkzeug_page = RequestEntityTooLarge().get_body().encode()
    for response in answers.values():
        assert response.status_code == 413
        assert response.content == werkzeug_page
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["connection"] == "close"
