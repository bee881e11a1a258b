"""The pages the bridge answers with itself, each in the format the client would get today.

The 413 and 503 pages are werkzeug's, as the legacy Flask app would render them; the 500 is
gunicorn's, as gunicorn sends it when an app fails before its response has started. A body
over the limit is answered by `too_large_responder`: the app's own 413 when it is a Flask app.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from starlette.types import Message, Send
from werkzeug.exceptions import BadGateway, RequestEntityTooLarge, ServiceUnavailable

from cutover.wsgi.environ import Environ, WSGIApp

HTML = b"text/html; charset=utf-8"
CLOSE = (b"Connection", b"close")


def _gunicorn_error_page(reason: str, message: str = "") -> bytes:
    """The page gunicorn's `util.write_error` builds (gunicorn 23-27), byte for byte."""
    return (
        f"<html>\n  <head>\n    <title>{reason}</title>\n  </head>\n  <body>\n"
        f"    <h1><p>{reason}</p></h1>\n    {html.escape(message)}\n  </body>\n</html>\n"
    ).encode("latin-1")


ERROR_500 = _gunicorn_error_page("Internal Server Error")
ERROR_503 = ServiceUnavailable().get_body().encode()
ERROR_413 = RequestEntityTooLarge().get_body().encode()
ERROR_502 = BadGateway().get_body().encode()


async def send_overloaded(send: Send) -> None:
    """werkzeug's 503 page with `Retry-After: 1`: the legacy side cannot take this request now."""
    headers = [
        (b"Content-Type", HTML),
        (b"Content-Length", str(len(ERROR_503)).encode()),
        (b"Retry-After", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": ERROR_503})


def error_start(status: int, body: bytes, content_type: bytes) -> Message:
    """The start message of an error page that also closes the connection."""
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [
            CLOSE,
            (b"Content-Type", content_type),
            (b"Content-Length", str(len(body)).encode()),
        ],
    }


def too_large_responder(app: WSGIApp) -> WSGIApp:
    """The WSGI app answering 413 as `app` would: a Flask app's own 413 handler, else werkzeug's."""
    request_context = getattr(app, "request_context", None)
    handle_http_exception = getattr(app, "handle_http_exception", None)
    make_response = getattr(app, "make_response", None)
    if request_context is None or handle_http_exception is None or make_response is None:
        return _werkzeug_too_large

    def flask_too_large(environ: Environ, start_response: Any) -> Iterable[bytes]:
        with request_context(environ):
            response = make_response(handle_http_exception(RequestEntityTooLarge()))
            body: Iterable[bytes] = response(environ, start_response)
            return body

    return flask_too_large


def _werkzeug_too_large(environ: Environ, start_response: Any) -> Iterable[bytes]:
    return RequestEntityTooLarge()(environ, start_response)
