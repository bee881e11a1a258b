"""Answers the gateway gives itself exactly as Flask would: automatic OPTIONS, 405, and the
strict-slash redirect, for paths whose legacy code may already be gone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.types import Message, Send
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wrappers import Response


def options_response(response_class: type[Response], allow: str) -> Response:
    """Flask's automatic OPTIONS answer listing `allow`."""
    response = response_class()
    response.allow.update(allow.split(", "))
    return response


def method_not_allowed(allow: str, environ: dict[str, Any]) -> Response:
    """werkzeug's 405 page with `Allow` listing both sides' methods."""
    return MethodNotAllowed(valid_methods=allow.split(", ")).get_response(environ)


def with_allow(send: Send, allow: str) -> Send:
    """`send` with the Allow header of a 405/OPTIONS answer replaced by both sides' methods."""
    value = allow.encode("latin-1")

    async def send_with_allow(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            if any(name.lower() == b"allow" for name, _ in headers):
                message = {
                    **message,
                    "headers": [
                        (name, value if name.lower() == b"allow" else old) for name, old in headers
                    ],
                }
        await send(message)

    return send_with_allow


async def send_response(response: Response, environ: dict[str, Any], send: Send) -> None:
    """Send a werkzeug response as ASGI messages, with the headers and body WSGI would give."""
    app_iter, status, headers = response.get_wsgi_response(environ)
    body_parts: Iterable[bytes] = app_iter
    await send(
        {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"".join(body_parts), "more_body": False})
