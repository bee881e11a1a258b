"""Small ASGI helpers the gateway and the compat layer share: one copy of each."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable

from starlette.types import Message, Scope, Send


def route_path(scope: Scope) -> str:
    """The path below the mount point, as Starlette's `get_route_path`: `root_path` is stripped
    only at a segment boundary (`/api` is not the mount of `/apiary`)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    rest = path[len(root_path) :]
    if not rest:
        return "/"
    if rest[0] == "/":
        return rest
    return path


def header_value(headers: Iterable[tuple[bytes, bytes]] | None, wanted: bytes) -> str | None:
    """The first value of the header named `wanted` (lowercase), decoded as latin-1."""
    for name, value in headers or ():
        if name.lower() == wanted:
            return value.decode("latin-1")
    return None


async def send_json(
    send: Send,
    status: int,
    payload: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
    *,
    with_body: bool = True,
) -> None:
    """A JSON answer the gateway makes itself, never cached (`with_body=False` for HEAD)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload if with_body else b""})


def without_body(send: Send) -> Send:
    """`send` for HEAD: headers pass, the body is dropped, the response still ends once."""

    async def send_head(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
        elif not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return send_head


def allow_header(methods: Iterable[str]) -> str:
    """An `Allow` value as werkzeug formats it: the methods in the order given, comma-separated."""
    return ", ".join(methods)


class AnsweringSend:
    """The client's `send` that notes the status and adds the request id (and the side served)."""

    __slots__ = ("_send", "_served_by", "rid", "status")

    def __init__(self, send: Send, rid: bytes, served_by: bytes | None) -> None:
        self._send = send
        self.rid = rid
        self._served_by = served_by
        self.status = 500  # an app that raised before answering is counted as a 500

    def send(self, message: Message) -> Awaitable[None]:
        # A plain function handing back the real send's awaitable: no coroutine of its own.
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = message.get("headers", ())
            for name, _ in headers:
                if len(name) == 12 and name.lower() == b"x-request-id":
                    headers = [h for h in headers if h[0].lower() != b"x-request-id"]
                    break
            if self._served_by is None:
                headers = [*headers, (b"x-request-id", self.rid)]
            else:
                headers = [
                    *headers,
                    (b"x-request-id", self.rid),
                    (b"x-cutover-served-by", self._served_by),
                ]
            message = {**message, "headers": headers}
        return self._send(message)
