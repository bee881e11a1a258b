"""Small Flask + FastAPI pairs behind a `Gateway`, served by uvicorn for the reliability tests."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from flask import Flask
from flask import request as flask_request

from cutover import Gateway

CHUNK = 64 * 1024


def _sizes_app() -> Flask:
    legacy = Flask("stub_limits_legacy")

    @legacy.post("/legacy/whole")
    def legacy_whole() -> Any:
        # Reads the body in one call, as `request.get_data()` and most views do.
        return {"size": len(flask_request.get_data())}

    @legacy.post("/legacy/streamed")
    def legacy_streamed() -> Any:
        size = 0
        while chunk := flask_request.stream.read(CHUNK):
            size += len(chunk)
        return {"size": size}

    return legacy


def _sizes_new() -> FastAPI:
    new = FastAPI()

    @new.post("/native/whole")
    async def native_whole(request: Request) -> Any:
        return {"size": len(await request.body())}

    @new.post("/native/streamed")
    async def native_streamed(request: Request) -> Any:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    return new


def limits_gateway() -> Gateway:
    """uvicorn --factory target: body-reading routes on both sides, at the default limits."""
    return Gateway(_sizes_app(), _sizes_new())


PING_COUNT = {"legacy": 0}
_ping_lock = threading.Lock()


def overload_legacy() -> Flask:
    """The overload gateway's legacy app: slow and trivial routes, and their count."""
    legacy = Flask("stub_overload_legacy")

    @legacy.get("/sleep")
    def sleep() -> Any:
        time.sleep(float(flask_request.args.get("seconds", "1")))
        return {"slept": True}

    @legacy.get("/ping")
    def ping() -> Any:
        with _ping_lock:
            PING_COUNT["legacy"] += 1
        return {"pong": True}

    @legacy.get("/pings")
    def pings() -> Any:
        return dict(PING_COUNT)

    return legacy


def overload_gateway() -> Gateway:
    """uvicorn --factory target: slow and trivial legacy routes, a native one, a small queue.

    Tuned by STUB_THREADS, STUB_QUEUE_SIZE and STUB_QUEUE_TIMEOUT ("none" for unbounded);
    STUB_PROCESSES > 0 serves the legacy app from that many worker processes.
    """
    legacy = overload_legacy()
    new = FastAPI()

    @new.get("/native-ping")
    async def native_ping() -> Any:
        return {"pong": "native"}

    return Gateway(
        legacy,
        new,
        legacy_threads=int(os.environ.get("STUB_THREADS", "4")),
        legacy_queue_size=_optional(os.environ.get("STUB_QUEUE_SIZE", "2"), int),
        legacy_queue_timeout=_optional(os.environ.get("STUB_QUEUE_TIMEOUT", "0.5"), float),
        legacy_processes=int(os.environ.get("STUB_PROCESSES", "0")),
        legacy_app="tests.cutover.stub_gateways:overload_legacy()",
    )


def _optional(value: str, kind: type[Any]) -> Any:
    return None if value == "none" else kind(value)


def settings_gateway() -> Gateway:
    """uvicorn --factory target: the stub Flask app configured from `CUTOVER_*` as deployed."""
    from tests.cutover.stub_apps import flask_app

    return Gateway.from_settings(flask_app)
