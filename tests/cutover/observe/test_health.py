"""Liveness and readiness: healthz answers for the process, readyz runs its checks in threads
(the loop keeps serving while one is slow), 503s with Retry-After when one fails, never leaks a
password, and holds one thread per hung check however many probes arrive."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import anyio
import pytest
from starlette.types import ASGIApp, Message

from cutover.observe.health import healthz, readyz, redact

pytestmark = pytest.mark.anyio

WAIT = 10.0


async def call(app: ASGIApp, method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes]:
    """Status, headers and body of one request to `app`."""
    scope = {"type": "http", "method": method, "path": "/", "headers": [], "query_string": b""}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    assert start["type"] == "http.response.start" and body["type"] == "http.response.body"
    return start["status"], dict(start["headers"]), body["body"]


async def test_healthz_answers_ok_with_the_pid() -> None:
    status, headers, body = await call(healthz)
    assert status == 200
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"cache-control"] == b"no-store"
    assert json.loads(body) == {"status": "ok", "pid": os.getpid()}
    assert int(headers[b"content-length"]) == len(body)


async def test_head_gets_headers_only_and_other_methods_405() -> None:
    status, headers, body = await call(healthz, "HEAD")
    assert (status, body) == (200, b"")
    assert int(headers[b"content-length"]) > 0
    status, headers, _ = await call(healthz, "POST")
    assert (status, headers[b"allow"]) == (405, b"GET, HEAD")
    ran: list[int] = []

    def check() -> tuple[str, bool, str]:
        ran.append(1)
        return "db", True, ""

    status, _, _ = await call(readyz([check]), "DELETE")
    assert status == 405 and ran == []


def ok_check(name: str, detail: str = "reachable") -> Any:
    def check() -> tuple[str, bool, str]:
        return name, True, detail

    return check


async def test_ready_when_every_check_passes() -> None:
    status, headers, body = await call(readyz([ok_check("database"), ok_check("state", "v17")]))
    assert status == 200
    assert b"retry-after" not in headers
    assert json.loads(body) == {
        "status": "ready",
        "checks": {
            "database": {"ok": True, "detail": "reachable"},
            "state": {"ok": True, "detail": "v17"},
        },
    }


async def test_no_checks_is_ready() -> None:
    status, _, body = await call(readyz([]))
    assert (status, json.loads(body)) == (200, {"status": "ready", "checks": {}})


async def test_a_failing_check_makes_it_not_ready_with_retry_after() -> None:
    def state() -> tuple[str, bool, str]:
        return "state", False, "serving the last known modes (version 16)"

    status, headers, body = await call(readyz([ok_check("database"), state]))
    assert status == 503
    assert headers[b"retry-after"] == b"1"
    assert json.loads(body) == {
        "status": "not ready",
        "checks": {
            "database": {"ok": True, "detail": "reachable"},
            "state": {"ok": False, "detail": "serving the last known modes (version 16)"},
        },
    }


async def test_a_check_that_raises_fails_with_its_class_name_and_no_password() -> None:
    calls = 0

    def database() -> tuple[str, bool, str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return "database", True, "ok"
        raise ConnectionRefusedError("postgresql://app:hunter2@db:5432/app refused")

    app = readyz([database])
    assert (await call(app))[0] == 200
    status, _, body = await call(app)
    assert status == 503
    assert b"hunter2" not in body and b"postgresql" not in body
    # Reported under the name the check gave when it last answered.
    assert json.loads(body)["checks"] == {
        "database": {"ok": False, "detail": "ConnectionRefusedError"}
    }


async def test_a_check_that_never_answered_is_named_after_its_function() -> None:
    def state_store() -> tuple[str, bool, str]:
        raise OSError("down")

    _, _, body = await call(readyz([state_store, lambda: ("x", True, "")]))
    checks = json.loads(body)["checks"]
    assert checks["state_store"] == {"ok": False, "detail": "OSError"}


async def test_a_malformed_answer_counts_as_failed() -> None:
    def broken() -> tuple[str, bool, str]:
        return "only", True  # type: ignore[return-value]

    status, _, body = await call(readyz([broken]))
    assert status == 503
    assert json.loads(body)["checks"]["broken"] == {"ok": False, "detail": "ValueError"}


async def test_passwords_in_details_are_redacted() -> None:
    check = ok_check("database", "connected to postgresql+psycopg://app:s3cr%40t@db/app")
    _, _, body = await call(readyz([check]))
    detail = json.loads(body)["checks"]["database"]["detail"]
    assert detail == "connected to postgresql+psycopg://app:***@db/app"


def test_redact() -> None:
    assert redact("sqlite:///tmp/x.db") == "sqlite:///tmp/x.db"
    assert redact("postgresql://db/app") == "postgresql://db/app"
    assert redact("postgresql://u:p@h/d and redis://:pw@r:6379") == (
        "postgresql://u:***@h/d and redis://:***@r:6379"
    )
    assert redact("user@example.com") == "user@example.com"
    assert redact("postgresql://u:p@ss@h/d") == "postgresql://u:***@h/d"  # an unquoted @


async def test_a_slow_check_does_not_block_the_loop() -> None:
    started = threading.Event()
    released_by_the_loop = threading.Event()
    release = threading.Event()

    def slow() -> tuple[str, bool, str]:
        started.set()
        # Only the coroutine below sets `release`: if the check held the loop it would wait out.
        if release.wait(WAIT):
            released_by_the_loop.set()
        return "slow", True, "done"

    results: list[int] = []

    async def probe() -> None:
        results.append((await call(readyz([slow]), "GET"))[0])

    async with anyio.create_task_group() as group:
        group.start_soon(probe)
        while not started.is_set():
            await anyio.sleep(0.001)
        progressed = 0
        for _ in range(10):  # the loop runs other coroutines while the check sleeps
            await anyio.sleep(0)
            progressed += 1
        release.set()
    assert progressed == 10
    assert released_by_the_loop.is_set()
    assert results == [200]


async def test_a_hung_check_times_out_and_holds_one_thread_across_probes() -> None:
    release = threading.Event()
    finished = threading.Event()
    calls = 0

    def hung() -> tuple[str, bool, str]:
        nonlocal calls
        calls += 1
        try:
            release.wait(WAIT)
            return "hung", True, "answered at last"
        finally:
            finished.set()

    app = readyz([hung], timeout=0.05)
    try:
        status, _, body = await call(app)
        assert status == 503
        assert json.loads(body)["checks"]["hung"] == {
            "ok": False,
            "detail": "no answer within 0.05 s",
        }
        status, _, body = await call(app)  # the first run still holds its thread
        assert status == 503
        assert json.loads(body)["checks"]["hung"]["detail"] == (
            "still running since an earlier probe"
        )
        assert calls == 1
    finally:
        release.set()
    assert finished.wait(WAIT)
    while getattr(app, "_runs")[0].in_thread:  # noqa: B009 (the thread's last step)
        await anyio.sleep(0.001)
    status, _, _ = await call(app)  # once it has finished, a probe runs the check again
    assert status == 200 and calls == 2


async def test_probes_arriving_together_share_one_run() -> None:
    started = threading.Event()
    release = threading.Event()
    calls = 0

    def shared() -> tuple[str, bool, str]:
        nonlocal calls
        calls += 1
        started.set()
        release.wait(WAIT)
        return "shared", True, "ok"

    app = readyz([shared])
    statuses: list[int] = []

    async def probe() -> None:
        statuses.append((await call(app))[0])

    async with anyio.create_task_group() as group:
        group.start_soon(probe)
        while not started.is_set():
            await anyio.sleep(0.001)
        group.start_soon(probe)
        group.start_soon(probe)
        for _ in range(10):
            await anyio.sleep(0)
        release.set()
    assert statuses == [200, 200, 200]
    assert calls == 1
