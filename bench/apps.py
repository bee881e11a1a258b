"""Tiny apps and compositions the benchmark serves, each an import string for uvicorn/gunicorn."""

import importlib
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue


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


def _gateway(legacy: Any, new: Any = None) -> Any:
    """`cutover.Gateway`, imported on use: the toolkit may not be written yet."""
    gateway_cls = importlib.import_module("cutover").Gateway
    return gateway_cls(legacy) if new is None else gateway_cls(legacy, new)


def _bridge(legacy: Any) -> Any:
    """`cutover.wsgi_bridge.WSGIBridge`, imported on use, with its default thread pool."""
    return importlib.import_module("cutover.wsgi_bridge").WSGIBridge(legacy)


# Built on first access (module `__getattr__`), so this module imports before cutover is written.
_LAZY = {
    "bridge_alone": lambda: _bridge(flask_app),
    "gateway_fallthrough": lambda: _gateway(flask_app),
    "gateway_native": lambda: _gateway(flask_app, make_fastapi()),
}
_built: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _built:
        _built[name] = _LAZY[name]()
    return _built[name]


def reference_legacy() -> Any:
    """The reference app with nothing ported: every route falls through the gateway to Flask."""
    legacy = importlib.import_module("legacy_flask").create_app()
    return _gateway(legacy)


def reference_native() -> Any:
    """The reference app with its FastAPI ports: ported routes are served natively."""
    legacy = importlib.import_module("legacy_flask").create_app()
    new = importlib.import_module("new_fastapi").create_app()
    return _gateway(legacy, new)
