"""Tiny apps and compositions the benchmark serves, each an import string for uvicorn/gunicorn."""

import asyncio
import tempfile
from pathlib import Path
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI, Response
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

import legacy_flask
import new_fastapi
from bench.scenarios import MIXED_LEGACY, SHADOW_TOKEN
from cutover import Gateway
from cutover.settings import GatewaySettings
from cutover.wsgi import WSGIBridge


def make_flask() -> Flask:
    """The legacy side: one tiny JSON route that falls through the gateway."""
    app = Flask("bench_legacy")

    @app.get("/ping")
    def ping() -> ResponseReturnValue:
        return jsonify(ok=True)

    return app


def make_fastapi() -> FastAPI:
    """The ported side: the same tiny route on its own path, so the gateway serves it natively."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/native-ping")
    async def native_ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def a2wsgi_app(app: Flask) -> Any:
    """`a2wsgi.WSGIMiddleware(app)`; its stubs reject Flask's compatible `__call__`."""
    return WSGIMiddleware(cast(Any, app))


def make_docs_recipe() -> FastAPI:
    """FastAPI's documented fall-through: the Flask app mounted at `/` behind FastAPI's router."""
    app = make_fastapi()
    app.mount("/", a2wsgi_app(flask_app))
    return app


flask_app = make_flask()
fastapi_app = make_fastapi()
docs_recipe = make_docs_recipe()
bare_a2wsgi = a2wsgi_app(flask_app)


# The gateways run with the control plane on, as in production: modes followed from a state
# store, metrics and request ids. The access log is off as uvicorn's is (`--no-access-log`);
# `gateway_native_logged` measures it.
STATE_URL = f"sqlite:///{Path(tempfile.gettempdir()) / 'cutover-bench-state.db'}"
CONTROL_PLANE: dict[str, Any] = {
    "freeze_startup_heap": True,
    "state_url": STATE_URL,
    "access_log": False,
}

gateway_fallthrough = Gateway(flask_app, **CONTROL_PLANE)
gateway_native = Gateway(flask_app, make_fastapi(), **CONTROL_PLANE)
gateway_native_logged = Gateway(flask_app, make_fastapi(), **{**CONTROL_PLANE, "access_log": True})

MANY_LEGACY, MANY_NATIVE = 200, 50  # issue 13: routing at 200 legacy + 50 native routes


def make_many_flask() -> Flask:
    """The legacy side with 200 routes besides `/ping`."""
    app = make_flask()
    for n in range(MANY_LEGACY):
        app.add_url_rule(f"/legacy-{n}/<int:item_id>", f"legacy_{n}", _legacy_view)
    return app


def _legacy_view(item_id: int) -> ResponseReturnValue:
    return jsonify(item_id=item_id)


def make_many_fastapi() -> FastAPI:
    """The ported side with 49 routes before `/native-ping`, which is matched last."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for n in range(MANY_NATIVE - 1):
        app.add_api_route(f"/native-{n}/{{item_id}}", _native_view, methods=["GET"], name=f"n{n}")
    app.add_api_route("/native-ping", _native_ping, methods=["GET"])
    return app


async def _native_view(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


async def _native_ping() -> dict[str, bool]:
    return {"ok": True}


fastapi_many = make_many_fastapi()
gateway_many = Gateway(make_many_flask(), make_many_fastapi(), **CONTROL_PLANE)
bridge_alone = WSGIBridge(flask_app)


def reference_flask() -> Flask:
    """The reference app's Flask side alone, as it ran on gunicorn before the gateway."""
    return legacy_flask.create_app()


def reference_legacy() -> Any:
    """The reference app with nothing ported: every route falls through the gateway to Flask."""
    return Gateway(legacy_flask.create_app(), **CONTROL_PLANE)


def reference_native() -> Any:
    """The reference app with its FastAPI ports: ported routes are served natively."""
    return Gateway(legacy_flask.create_app(), new_fastapi.create_app(), **CONTROL_PLANE)


def reference_fastapi() -> FastAPI:
    """The reference app's FastAPI side alone, as a second server beside gunicorn would run it."""
    return new_fastapi.create_app()


def reference_mixed() -> Any:
    """Both sides of the reference app in one process, the mixed load's legacy read
    (`GET /api/users/{user_id}`) kept on Flask by its default mode, the rest native."""
    legacy_route = "GET " + MIXED_LEGACY.rsplit("/", 1)[0] + "/{user_id}"
    return Gateway(
        legacy_flask.create_app(),
        new_fastapi.create_app(),
        default_modes={legacy_route: "legacy"},
        **CONTROL_PLANE,
    )


# ---------------------------------------------------------------- control plane off


def gateway_fallthrough_static() -> Gateway:
    """`gateway_fallthrough` without the control plane: modes from code, no state store."""
    return Gateway(flask_app, **{**CONTROL_PLANE, "state_url": None})


def gateway_native_static() -> Gateway:
    """`gateway_native` without the control plane."""
    return Gateway(flask_app, make_fastapi(), **{**CONTROL_PLANE, "state_url": None})


# ---------------------------------------------------------------- CPU-heavy legacy

CPU_LOOPS = 40_000  # ~2 ms of pure Python on the bench VM, holding the interpreter


def cpu_flask() -> Flask:
    """A legacy view that computes for ~2 ms without releasing the interpreter lock."""
    app = Flask("bench_cpu")

    @app.get("/cpu")
    def cpu() -> ResponseReturnValue:
        return jsonify(total=sum(i * i for i in range(CPU_LOOPS)))

    return app


def cpu_gateway() -> Gateway:
    """The cpu-heavy view falling through the gateway, configured from `CUTOVER_*`: with
    `CUTOVER_LEGACY_PROCESSES=N` (once the setting exists) legacy runs in N processes."""
    return Gateway.from_settings(cpu_flask(), None, GatewaySettings(), **CONTROL_PLANE)


# ---------------------------------------------------------------- 10 MB streaming

STREAM_BYTES = 10_000_000
STREAM_CHUNK = 64 << 10


def streaming_flask() -> Flask:
    """`GET /download` streams 10 MB from a generator, `POST /upload` reads its body in chunks
    and answers the byte count (a GET there answers 0: the runner's readiness check)."""
    app = Flask("bench_streaming")
    chunk = b"x" * STREAM_CHUNK

    @app.get("/download")
    def download() -> ResponseReturnValue:
        def body() -> Any:
            left = STREAM_BYTES
            while left > 0:
                part = chunk[: min(left, STREAM_CHUNK)]
                left -= len(part)
                yield part

        headers = {"Content-Length": str(STREAM_BYTES)}
        return app.response_class(body(), mimetype="application/octet-stream", headers=headers)

    @app.route("/upload", methods=["GET", "POST"])
    def upload() -> ResponseReturnValue:
        total = 0
        while part := request.stream.read(STREAM_CHUNK):
            total += len(part)
        return jsonify(received=total)

    return app


def streaming_gateway() -> Gateway:
    """The streaming views falling through the gateway (10 MB is under its 10 MiB body limit)."""
    return Gateway(streaming_flask(), **CONTROL_PLANE)


# ---------------------------------------------------------------- shadow traffic (issue 11)
#
# Two routes on both sides, `GET /shadowed` (tiny JSON) and `GET /shadowed-large` (1 MB JSON):
# Flask answers them (the primary, in `legacy` and `shadow` alike), FastAPI is the candidate
# replayed once the client has its answer. Factories (`uvicorn --factory`), so that the other
# scenarios' processes never build these gateways nor the 1 MB bodies.

SHADOW_ROUTES = ("GET /shadowed", "GET /shadowed-large")
SHADOW_TIMEOUT = 1.0  # the slow candidate sleeps 2 s: every replay of it times out
SLOW_CANDIDATE_SECONDS = 2.0
SAMPLED_RATE = 0.1
SHADOW_STATE_URL = f"sqlite:///{Path(tempfile.gettempdir()) / 'cutover-bench-shadow-state.db'}"


def shadow_flask(large: bytes) -> Flask:
    """The primary: Flask's tiny JSON answer, and the 1 MB body as Flask's jsonify writes it."""
    app = Flask("bench_shadow_legacy")

    @app.get("/shadowed")
    def shadowed() -> ResponseReturnValue:
        return jsonify(ok=True)

    @app.get("/shadowed-large")
    def shadowed_large() -> ResponseReturnValue:
        return app.response_class(large, mimetype="application/json")

    return app


def shadow_fastapi(candidate: str, large: bytes) -> FastAPI:
    """The candidate: `ok` answers the same value in other bytes (as real ports do), `slow`
    sleeps 2 s first (async), `failing` raises."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/shadowed")
    async def shadowed() -> dict[str, bool]:
        if candidate == "slow":
            await asyncio.sleep(SLOW_CANDIDATE_SECONDS)
        elif candidate == "failing":
            raise RuntimeError("bench: the shadow candidate fails")
        return {"ok": True}

    @app.get("/shadowed-large")
    async def shadowed_large() -> Response:
        return Response(large, media_type="application/json")

    return app


def shadow_gateway(mode: str, candidate: str = "ok", **options: Any) -> Gateway:
    """Both routes in `mode` (`default_modes`), the control plane on (its own state store, and
    the admin API the runner reads the shadow counters from), the slow candidate timing out."""
    from bench.compare_bench import fastapi_bytes, flask_bytes, payload

    value = payload()  # bench/compare_bench.py's body: 5,000 objects of ten fields, 1.14 MB
    return Gateway(
        shadow_flask(flask_bytes(value)),
        shadow_fastapi(candidate, fastapi_bytes(value)),
        default_modes=dict.fromkeys(SHADOW_ROUTES, mode),
        shadow_timeout=SHADOW_TIMEOUT,
        admin_token=SHADOW_TOKEN,
        publish_interval=0.25,
        shadow_max_answer_size=4 << 20,  # the 1 MB answers are compared (off by default)
        **{**CONTROL_PLANE, "state_url": SHADOW_STATE_URL, **options},
    )


def shadow_legacy() -> Gateway:
    """The baseline: the routes in `legacy`, nothing replayed."""
    return shadow_gateway("legacy")


def shadow_matching() -> Gateway:
    """`shadow`, every request replayed (sample rate 1) to a candidate answering the same."""
    return shadow_gateway("shadow")


def shadow_sampled() -> Gateway:
    """`shadow` with `shadow_sample_rate=0.1`: one request in ten replayed."""
    return shadow_gateway("shadow", shadow_sample_rate=SAMPLED_RATE)


def shadow_budgeted() -> Gateway:
    """`shadow` with `shadow_budget=0.05`: replays and comparisons take at most 5 % of each
    second; past it requests are served unshadowed (counted dropped)."""
    return shadow_gateway("shadow", shadow_budget=0.05)


def shadow_slow() -> Gateway:
    """`shadow` to a candidate that sleeps 2 s, past the 1 s shadow timeout."""
    return shadow_gateway("shadow", "slow")


def shadow_failing() -> Gateway:
    """`shadow` to a candidate that raises."""
    return shadow_gateway("shadow", "failing")
