"""Bridge behaviour without a network: wsgi.errors, successive loops, heap freeze, lifespan,
Connection: close for HTTP/1.0."""

from __future__ import annotations

import asyncio
import gc

import pytest

from cutover.wsgi import WSGIBridge
from tests.cutover.stub_apps import flask_app, plain_wsgi_app
from tests.cutover.wsgi.inprocess import Message, call, exchange, http_scope


def test_wsgi_errors_go_to_stderr_not_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    bridge = WSGIBridge(plain_wsgi_app, freeze_startup_heap=False)
    try:
        assert call(bridge, http_scope(path="/errors")) == (200, b"logged")
    finally:
        bridge.close()
    out, err = capfd.readouterr()
    assert "written to wsgi.errors" in err
    assert "written to wsgi.errors" not in out


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


@pytest.mark.parametrize(
    "path", ["/json", f"/download?size={2 * 1024 * 1024}"], ids=["whole", "streamed"]
)
@pytest.mark.parametrize(
    ("http_version", "connection", "closes"),
    [
        ("1.0", None, True),
        ("1.0", "Keep-Alive", False),
        ("1.0", "foo, keep-alive", False),
        ("1.1", None, False),
    ],
    ids=["1.0", "1.0-keep-alive", "1.0-keep-alive-listed", "1.1"],
)
def test_http10_without_keep_alive_is_told_the_connection_closes(
    path: str, http_version: str, connection: str | None, closes: bool
) -> None:
    # uvicorn closes such a connection after the response, and says so only from 0.53 on;
    # gunicorn always says so. The bridge says it for every server.
    scope = http_scope(path=path, headers=[("Connection", connection)] if connection else [])
    scope["http_version"] = http_version
    bridge = WSGIBridge(flask_app, freeze_startup_heap=False)
    try:
        start, *body = exchange(bridge, scope)
    finally:
        bridge.close()
    assert start["status"] == 200
    assert len(body) > (2 if "download" in path else 0)  # the streamed one came in chunks
    assert ((b"Connection", b"close") in start["headers"]) is closes
