"""The request body as `wsgi.input`: chunked bodies streamed whole, or cut off at the limit."""

from __future__ import annotations

import json

from cutover.wsgi import WSGIBridge
from cutover.wsgi.input import BUFFERED_BODY_LIMIT
from tests.cutover.stub_apps import flask_app
from tests.cutover.wsgi.inprocess import call, http_scope


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
