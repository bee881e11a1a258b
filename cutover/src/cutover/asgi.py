"""Small ASGI helpers the gateway and the compat layer share: one copy of each."""

from __future__ import annotations

from collections.abc import Iterable

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
