"""Tiny apps and compositions the benchmark serves, each an import string for uvicorn/gunicorn."""

import tempfile
from pathlib import Path
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

import legacy_flask
import new_fastapi
from cutover import Gateway
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
