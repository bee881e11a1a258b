"""Small generic WSGI apps served both by gunicorn and through the bridge, to compare the two."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from a2wsgi import WSGIMiddleware
from flask import Flask, Response, jsonify, make_response, redirect, request, stream_with_context

from cutover.wsgi import DEFAULT_MAX_BODY, DEFAULT_THREADS, RemoteBridge, WSGIBridge

ENVIRON_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "RAW_URI",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "HTTP_HOST",
    "HTTP_COOKIE",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_ACCEPT",
    "HTTP_X_REPEATED",
    "HTTP_X_CUSTOM",
    "wsgi.url_scheme",
    "wsgi.input_terminated",
)
CHUNK = 64 * 1024
GATE_TIMEOUT = 20.0

flask_app = Flask(__name__)


@flask_app.get("/json")
def tiny_json() -> Any:
    return {"ok": True}


@flask_app.get("/unicode")
def unicode_json() -> Any:
    return jsonify(greeting="héllo wörld ☃ 日本", items=["ü", "€"])


@flask_app.get("/dir/")
def directory() -> str:
    return "directory index"


@flask_app.route("/methods", methods=["GET", "POST"])
def methods() -> str:
    return f"method {request.method}"


@flask_app.get("/cookies")
def set_cookies() -> Response:
    response = make_response("cookies set")
    response.set_cookie("first", "1", httponly=True)
    response.set_cookie("second", "two words", path="/methods")
    response.set_cookie("third", "3", samesite="Lax")
    return response


@flask_app.get("/cookie-echo")
def cookie_echo() -> Any:
    return dict(request.cookies)


@flask_app.get("/custom-headers")
def custom_headers() -> Response:
    response = make_response("with headers", 201)
    response.headers["X-Custom"] = "value"
    response.headers.add("X-Multi", "a")
    response.headers.add("X-Multi", "b")
    response.headers["Cache-Control"] = "no-store"
    return response


@flask_app.get("/relative-redirect")
def relative_redirect() -> Any:
    return redirect("../json?from=redirect", 302)


@flask_app.post("/form")
def form() -> Any:
    return {"form": request.form.to_dict(flat=False)}


@flask_app.post("/upload")
def upload() -> Any:
    files = {
        name: {
            "filename": storage.filename,
            "sha256": hashlib.sha256(storage.read()).hexdigest(),
            "content_type": storage.content_type,
        }
        for name, storage in request.files.items()
    }
    return {"files": files, "form": request.form.to_dict(flat=False)}


@flask_app.post("/echo-json")
def echo_json() -> Any:
    return {"received": request.get_json(), "length": request.content_length}


@flask_app.get("/query")
def query() -> Any:
    return {"args": request.args.to_dict(flat=False)}


@flask_app.route("/environ", methods=["GET", "POST"])
@flask_app.route("/environ/<path:rest>", methods=["GET", "POST"])
def environ_dump(rest: str = "") -> Any:
    return {
        "view_arg": rest,
        "url": request.url,
        "environ": {key: request.environ.get(key) for key in ENVIRON_KEYS},
    }


@flask_app.get("/boom")
def boom() -> str:
    raise RuntimeError("legacy handler failed")


@flask_app.get("/sleep")
def sleep() -> Any:
    start = time.time()
    time.sleep(float(request.args.get("seconds", "1")))
    return {"start": start, "end": time.time()}


@flask_app.get("/gated-stream")
def gated_stream() -> Response:
    """Yields a first chunk, then blocks until the test creates the gate file."""
    gate = Path(request.args["gate"])

    def generate() -> Iterator[bytes]:
        yield b"first chunk\n"
        deadline = time.monotonic() + GATE_TIMEOUT
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        yield b"second chunk\n"

    return Response(generate(), mimetype="text/plain")


@flask_app.get("/endless-stream")
def endless_stream() -> Response:
    """Streams until closed; its `finally` leaves a marker file so the test can see the close."""
    marker = Path(request.args["marker"])

    def generate() -> Iterator[bytes]:
        try:
            while True:
                yield b"x" * 1024
                time.sleep(0.01)
        finally:
            marker.write_text("closed")

    return Response(stream_with_context(generate()), mimetype="application/octet-stream")


@flask_app.get("/download")
def download() -> Response:
    size = int(request.args["size"])
    block = b"d" * CHUNK

    def generate() -> Iterator[bytes]:
        left = size
        while left > 0:
            yield block[: min(left, CHUNK)]
            left -= CHUNK

    return Response(generate(), mimetype="application/octet-stream")


@flask_app.post("/sink")
def sink() -> Any:
    digest = hashlib.sha256()
    size = 0
    while chunk := request.stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


@flask_app.get("/server-software")
def server_software() -> Any:
    return {"SERVER_SOFTWARE": request.environ.get("SERVER_SOFTWARE")}


@flask_app.get("/nul-header")
def nul_header() -> Response:
    """Werkzeug refuses CR and LF in header values, but lets NUL through to the server."""
    response = make_response("never sent")
    response.headers["X-Bad"] = "a\x00b"
    return response


# What a broken app or middleware may hand to start_response; each must never reach the wire.
BAD_STARTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "crlf-value": ("200 OK", [("Content-Type", "text/plain"), ("X-Bad", "a\r\nX-Injected: 1")]),
    "lf-value": ("200 OK", [("Content-Type", "text/plain"), ("X-Bad", "a\nb")]),
    "nul-value": ("200 OK", [("Content-Type", "text/plain"), ("X-Bad", "a\x00b")]),
    "space-in-name": ("200 OK", [("Content-Type", "text/plain"), ("X Bad", "value")]),
    "colon-in-name": ("200 OK", [("Content-Type", "text/plain"), ("X-Bad:", "value")]),
    "empty-name": ("200 OK", [("Content-Type", "text/plain"), ("", "value")]),
    "status-without-code": ("OK", [("Content-Type", "text/plain")]),
    "status-with-crlf": ("200 OK\r\nX-Injected: 1", [("Content-Type", "text/plain")]),
    "status-two-digits": ("20 OK", [("Content-Type", "text/plain")]),
}


def plain_wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A framework-free WSGI callable exercising what Flask never does."""
    path = environ["PATH_INFO"]
    if path.startswith("/bad-start/"):
        status, headers = BAD_STARTS[path.rsplit("/", 1)[1]]
        if environ["QUERY_STRING"] == "late":
            return _start_late(start_response, status, headers)
        start_response(status, headers)
        return [b"never sent"]
    if path == "/no-length":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello ", b"world"]
    if path == "/declared-length":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]
    if path == "/hop-by-hop":
        start_response(
            "200 OK",
            [("Content-Type", "text/plain"), ("Keep-Alive", "timeout=99"), ("X-Kept", "yes")],
        )
        return [b"hop"]
    if path == "/errors":
        environ["wsgi.errors"].write("written to wsgi.errors\n")
        environ["wsgi.errors"].flush()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"logged"]
    if path == "/raise":
        raise RuntimeError("plain app failed")
    if path == "/fail-midway":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _fail_after_first_chunk()
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


def _start_late(
    start_response: Any, status: str, headers: list[tuple[str, str]]
) -> Iterator[bytes]:
    """start_response from inside the iterator, after the bridge has switched to streaming."""
    time.sleep(0.1)
    start_response(status, headers)
    yield b"never sent"


def _fail_after_first_chunk() -> Iterator[bytes]:
    yield b"partial"
    time.sleep(0.3)
    raise RuntimeError("response generator failed midway")


def _optional_int(name: str, default: int | None) -> int | None:
    value = os.environ.get(name)
    if value is None:
        return default
    return None if value == "none" else int(value)


def bridged_flask() -> WSGIBridge:
    """uvicorn --factory target: the Flask stub behind the bridge, tuned by STUB_* variables."""
    return WSGIBridge(
        flask_app,
        threads=_optional_int("STUB_THREADS", DEFAULT_THREADS) or DEFAULT_THREADS,
        max_body_size=_optional_int("STUB_MAX_BODY", DEFAULT_MAX_BODY),
        trust_proxy_headers=os.environ.get("STUB_TRUST_PROXY") == "1",
    )


def remote_flask() -> RemoteBridge:
    """uvicorn --factory target: the Flask stub in legacy worker processes, tuned by STUB_*."""
    return RemoteBridge(
        "tests.cutover.stub_apps:flask_app",
        processes=_optional_int("STUB_PROCESSES", 1) or 1,
        per_worker=_optional_int("STUB_THREADS", DEFAULT_THREADS) or DEFAULT_THREADS,
        max_body_size=_optional_int("STUB_MAX_BODY", DEFAULT_MAX_BODY),
        trust_proxy_headers=os.environ.get("STUB_TRUST_PROXY") == "1",
        queue_size=_optional_int("STUB_QUEUE_SIZE", None),
        queue_timeout=_optional_int("STUB_QUEUE_TIMEOUT", None),
    )


def remote_plain() -> RemoteBridge:
    """uvicorn --factory target: the plain WSGI callable in a legacy worker process."""
    return RemoteBridge("tests.cutover.stub_apps:plain_wsgi_app", max_body_size=DEFAULT_MAX_BODY)


def bridged_plain() -> WSGIBridge:
    """uvicorn --factory target: the plain WSGI callable behind the bridge."""
    return WSGIBridge(plain_wsgi_app)


def a2wsgi_flask() -> WSGIMiddleware:
    """uvicorn --factory target: the Flask stub behind bare a2wsgi, the baseline to beat."""
    return WSGIMiddleware(flask_app, workers=_optional_int("STUB_THREADS", 10) or 10)  # type: ignore[arg-type]
