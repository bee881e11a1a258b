"""The dashboard's ASGI plumbing: one request read (query, cookies, a bounded form body) and
HTML, redirect and static answers with the headers every page carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from cutover.asgi import route_path
from cutover.dashboard.session import read_cookie

MAX_FORM = 16 * 1024
# Pages are only ever scripts, styles and images of their own, never framed, never cached.
PAGE_HEADERS: list[tuple[bytes, bytes]] = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class FormTooLarge(Exception):
    """A posted form past MAX_FORM bytes."""


@dataclass(slots=True)
class Request:
    """What a dashboard view needs of the ASGI request."""

    scope: Scope
    path: str  # below the dashboard's prefix, e.g. `/route`
    base: str  # the root path plus the prefix: where links point
    query: dict[str, list[str]]
    form: dict[str, list[str]] = field(default_factory=dict)

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    def cookie(self, name: str) -> str | None:
        return read_cookie(self.scope["headers"], name)

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[-1]

    def field(self, name: str, default: str = "") -> str:
        return self.form.get(name, [default])[-1]

    @property
    def target(self) -> str:
        """The page's own path and query, for the login form to come back to."""
        query = self.scope.get("query_string", b"").decode("latin-1")
        return self.base + self.path + (f"?{query}" if query else "")


async def read_request(scope: Scope, receive: Receive, prefix: str) -> Request:
    path = route_path(scope)[len(prefix) :] or "/"
    base = scope.get("root_path", "") + prefix
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    request = Request(scope, path, base, query)
    if scope["method"] == "POST":
        body = await _read_body(receive)
        request.form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return request


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM:
            raise FormTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_html(
    send: Send,
    status: int,
    html: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    head: bool = False,
) -> None:
    body = html.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *PAGE_HEADERS,
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_redirect(
    send: Send, location: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """303 See Other: after a post, the browser GETs the page (a reload posts nothing again)."""
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"content-length", b"0"),
                *PAGE_HEADERS,
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: str, extra: list[Any] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
