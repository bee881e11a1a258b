"""Bridge behaviour that needs no network: environ building, limits, lifespan and the pool."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any

import pytest

from cutover.environ import build_environ
from cutover.worker_pool import WorkerPool
from cutover.wsgi_bridge import BUFFERED_BODY_LIMIT, WSGIBridge
from tests.cutover.stub_apps import flask_app, plain_wsgi_app

Message = MutableMapping[str, Any]


def http_scope(
    method: str = "GET", path: str = "/", headers: Iterable[tuple[str, str]] = ()
) -> Any:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def call(bridge: WSGIBridge, scope: Any, body: Iterable[bytes] = ()) -> tuple[int, bytes]:
    """Run one request through the bridge on a fresh event loop, as a server would."""

    async def run() -> tuple[int, bytes]:
        incoming: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": True} for chunk in body
        ]
        incoming.append({"type": "http.request", "body": b"", "more_body": False})
        sent: list[Message] = []
        never = asyncio.Event()

        async def receive() -> Message:
            if incoming:
                return incoming.pop(0)
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        await bridge(scope, receive, send)
        status = sent[0]["status"]
        return status, b"".join(m.get("body", b"") for m in sent[1:])

    return asyncio.run(run())


def test_wsgi_errors_go_to_stderr_not_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    bridge = WSGIBridge(plain_wsgi_app, freeze_startup_heap=False)
    try:
        assert call(bridge, http_scope(path="/errors")) == (200, b"logged")
    finally:
        bridge.close()
    out, err = capfd.readouterr()
    assert "written to wsgi.errors" in err
    assert "written to wsgi.errors" not in out


def test_chunked_body_crossing_the_limit_while_streamed_is_cut_off() -> None:
    limit = BUFFERED_BODY_LIMIT + 256 * 1024
    bridge = WSGIBridge(flask_app, max_body_size=limit, freeze_startup_heap=False)
    chunked = [("Transfer-Encoding", "chunked")]
    try:
        over = call(bridge, http_scope("POST", "/sink", chunked), [b"x" * 65536] * 40)
        under = call(bridge, http_scope("POST", "/sink", chunked), [b"x" * 65536] * 20)
    finally:
        bridge.close()
    assert over[0] == 413
    assert (under[0], json.loads(under[1])["size"]) == (200, 20 * 65536)


def test_chunked_body_crossing_a_small_limit_is_refused_up_front() -> None:
    bridge = WSGIBridge(flask_app, max_body_size=100, freeze_startup_heap=False)
    try:
        status, _ = call(
            bridge, http_scope("POST", "/sink", [("Transfer-Encoding", "chunked")]), [b"y" * 64] * 3
        )
    finally:
        bridge.close()
    assert status == 413


def test_chunked_body_is_seen_whole_by_flask() -> None:
    bridge = WSGIBridge(flask_app, freeze_startup_heap=False)
    headers = [("Transfer-Encoding", "chunked"), ("Content-Type", "application/json")]
    try:
        status, body = call(bridge, http_scope("POST", "/echo-json", headers), [b'{"k"', b": 1}"])
    finally:
        bridge.close()
    assert (status, json.loads(body)["received"]) == (200, {"k": 1})


def test_one_bridge_serves_successive_event_loops() -> None:
    bridge = WSGIBridge(flask_app, freeze_startup_heap=False)
    try:
        results = [call(bridge, http_scope(path="/json")) for _ in range(3)]
    finally:
        bridge.close()
    assert results == [(200, b'{"ok":true}\n')] * 3


def test_first_request_freezes_the_startup_heap_once() -> None:
    gc.unfreeze()
    bridge = WSGIBridge(flask_app)
    try:
        call(bridge, http_scope(path="/json"))
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        call(bridge, http_scope(path="/json"))
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        bridge.close()


def test_lifespan_shutdown_closes_the_pool() -> None:
    bridge = WSGIBridge(flask_app, freeze_startup_heap=False)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(bridge({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    with pytest.raises(RuntimeError, match="closed"):
        bridge.pool.submit(lambda: None)


def test_environ_has_raw_uri_and_request_uri() -> None:
    environ = build_environ(http_scope(path="/a%2Fb/%C3%A9?x=%20&y"))
    assert environ["RAW_URI"] == environ["REQUEST_URI"] == "/a%2Fb/%C3%A9?x=%20&y"
    assert environ["PATH_INFO"] == "/a/b/\xc3\xa9"


def test_environ_on_a_unix_socket_takes_server_name_from_host() -> None:
    scope = http_scope(headers=[("Host", "legacy.example:8443")])
    scope["server"] = ("/run/app.sock", None)
    environ = build_environ(scope)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("legacy.example", "8443")
    scope["headers"] = [(b"host", b"legacy.example")]
    assert build_environ(scope)["SERVER_PORT"] == "80"


def test_environ_joins_cookies_and_drops_underscored_names() -> None:
    headers = [("Cookie", "a=1"), ("Cookie", "b=2"), ("X-Real", "1"), ("X_Real", "2")]
    environ = build_environ(http_scope(headers=headers))
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_REAL"] == "1"


def test_environ_trusting_proxies_uses_the_nearest_hop() -> None:
    headers = [("X-Forwarded-For", "198.51.100.1, 203.0.113.5"), ("X-Forwarded-Proto", "https")]
    trusted = build_environ(http_scope(headers=headers), trust_proxy_headers=True)
    untrusted = build_environ(http_scope(headers=headers))
    assert (trusted["REMOTE_ADDR"], trusted["wsgi.url_scheme"]) == ("203.0.113.5", "https")
    assert (untrusted["REMOTE_ADDR"], untrusted["wsgi.url_scheme"]) == ("127.0.0.1", "http")


def test_pool_runs_new_jobs_while_the_hot_threads_are_blocked() -> None:
    pool = WorkerPool(4, hot=1)
    release, quick_done = threading.Event(), threading.Event()
    try:
        pool.submit(lambda: release.wait(10))
        pool.submit(quick_done.set)
        assert quick_done.wait(10)
        assert not release.is_set()
    finally:
        release.set()
        pool.close(wait=True)
    assert pool.thread_count == 2
