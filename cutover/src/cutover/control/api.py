"""The admin HTTP API: what `cutover status / switch / history` do, for callers with the token.

A pure ASGI app. Every call needs `Authorization: Bearer <token>` (compared in constant time);
with no token configured the API does not exist (404 everywhere). Store calls run in a worker
thread, never on the event loop.

    GET  {prefix}/status
    POST {prefix}/switch       {"method", "path", "mode", "percent"?, "reason", "actor"?}
    POST {prefix}/switch-all   {"mode": "legacy" | "new", "reason", "actor"?}
    GET  {prefix}/history?route=GET%20/items/{item_id}&limit=20
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from cutover.asgi import route_path, send_json
from cutover.control.modes import Mode, ModeRefused, RouteMode, route_id
from cutover.control.status import change_document, history_document, status_document
from cutover.control.store import StateStore, StoreUnavailable

logger = logging.getLogger("cutover.control")

DEFAULT_PREFIX = "/_cutover/api"
MAX_BODY = 64 * 1024
RETRY_AFTER_SECONDS = 1
MAX_HISTORY = 1000
DEFAULT = "default"

_T = TypeVar("_T")


class _HTTPError(Exception):
    def __init__(
        self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


class AdminAPI:
    """`status`, `switch`, `switch-all` and `history` under `prefix`, for bearers of `token`."""

    def __init__(self, store: StateStore, token: str | None, prefix: str = DEFAULT_PREFIX) -> None:
        self.store = store
        self._token = token.encode() if token else None
        self.prefix = "/" + prefix.strip("/")
        self._routes: dict[str, tuple[str, Callable[[Scope, bytes], Awaitable[Any]]]] = {
            "/status": ("GET", self._status),
            "/switch": ("POST", self._switch),
            "/switch-all": ("POST", self._switch_all),
            "/history": ("GET", self._history),
        }

    def add_route(
        self, path: str, method: str, handler: Callable[[Scope, bytes], Awaitable[Any]]
    ) -> None:
        """Serve `handler`'s JSON at `{prefix}{path}` behind the same token (e.g. `/shadow`)."""
        self._routes[path] = (method, handler)

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def handles(self, scope: Scope) -> bool:
        """Whether the request is for this API (its path is under the prefix)."""
        path = route_path(scope)
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets: not served here; closing the scope refuses it
        try:
            status, document = await self._handle(scope, receive)
            await _respond(send, status, document)
        except _HTTPError as error:
            await _respond(send, error.status, {"error": error.message}, error.headers)

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        if self._token is None or not self.handles(scope):
            raise _HTTPError(404, "not found")
        self._authenticate(scope)
        path = route_path(scope)[len(self.prefix) :]
        route = self._routes.get(path)
        if route is None:
            raise _HTTPError(404, "not found")
        method, handler = route
        if scope["method"] != method:
            raise _HTTPError(
                405, f"{path.lstrip('/')} takes {method}", [(b"allow", method.encode())]
            )
        body = await _read_body(scope, receive) if method == "POST" else b""
        try:
            result: Any = await handler(scope, body)
        except ModeRefused as exc:
            raise _HTTPError(400, str(exc)) from exc
        except StoreUnavailable as exc:
            logger.warning("cutover: admin API: %s", exc)
            raise _HTTPError(
                503, str(exc), [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
            ) from exc
        return 200, result

    def _authenticate(self, scope: Scope) -> None:
        assert self._token is not None
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    given = credentials.strip()
                break
        # Compared whatever was sent, so a missing token takes the same path as a wrong one.
        if not hmac.compare_digest(given, self._token):
            raise _HTTPError(
                401,
                "a valid bearer token is needed (Authorization: Bearer <CUTOVER_ADMIN_TOKEN>)",
                [(b"www-authenticate", b'Bearer realm="cutover"')],
            )

    async def _run(self, call: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        return await anyio.to_thread.run_sync(functools.partial(call, *args, **kwargs))

    # -- endpoints --------------------------------------------------------------------------------

    async def _status(self, scope: Scope, body: bytes) -> Any:
        return await self._run(status_document, self.store)

    async def _switch(self, scope: Scope, body: bytes) -> Any:
        fields = _json_object(
            body, required={"method", "path", "mode", "reason"}, optional={"percent", "actor"}
        )
        method = _string(fields, "method")
        path = _string(fields, "path")
        if not path.startswith("/"):
            raise _HTTPError(400, f"'path' is a path template starting with '/', not {path!r}")
        mode = _mode(_string(fields, "mode"), fields.get("percent"))
        change = await self._run(
            self.store.switch,
            route_id(method, path),
            mode,
            actor=_actor(fields),
            reason=_string(fields, "reason"),
        )
        return change_document(change)

    async def _switch_all(self, scope: Scope, body: bytes) -> Any:
        fields = _json_object(body, required={"mode", "reason"}, optional={"actor"})
        name = _string(fields, "mode")
        if name not in (Mode.LEGACY.value, Mode.NEW.value):
            raise _HTTPError(400, f"'mode' of switch-all is legacy or new, not {name!r}")
        changes = await self._run(
            self.store.switch_all,
            RouteMode(Mode(name)),
            actor=_actor(fields),
            reason=_string(fields, "reason"),
        )
        return history_document(changes)

    async def _history(self, scope: Scope, body: bytes) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        unknown = sorted(set(query) - {"route", "limit"})
        if unknown:
            raise _HTTPError(400, f"unknown query parameter {unknown[0]!r} (route, limit)")
        route = query.get("route", [""])[-1].strip() or None
        if route is not None:
            method, _, path = route.partition(" ")
            route = route_id(method, path.strip())
        limit_text = query.get("limit", ["100"])[-1]
        try:
            limit = int(limit_text)
        except ValueError:
            raise _HTTPError(400, f"'limit' is a whole number, not {limit_text!r}") from None
        if not 1 <= limit <= MAX_HISTORY:
            raise _HTTPError(400, f"'limit' is between 1 and {MAX_HISTORY}, not {limit}")
        changes = await self._run(self.store.history, route, limit)
        return history_document(changes)


def _json_object(body: bytes, *, required: set[str], optional: set[str]) -> dict[str, Any]:
    try:
        fields = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise _HTTPError(400, "the body is not JSON") from None
    if not isinstance(fields, dict):
        raise _HTTPError(400, "the body is a JSON object")
    missing = sorted(required - fields.keys())
    if missing:
        raise _HTTPError(400, f"missing field {missing[0]!r}")
    unknown = sorted(fields.keys() - required - optional)
    if unknown:
        raise _HTTPError(400, f"unknown field {unknown[0]!r}")
    return fields


def _string(fields: dict[str, Any], name: str) -> str:
    value = fields[name]
    if not isinstance(value, str):
        raise _HTTPError(400, f"{name!r} is a string")
    return value


def _actor(fields: dict[str, Any]) -> str:
    if fields.get("actor") is None:
        return "api"
    return _string(fields, "actor")


def _mode(name: str, percent: object) -> RouteMode | None:
    if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int | float)):
        raise _HTTPError(400, "'percent' is a number")
    if name == DEFAULT:
        if percent is not None:
            raise _HTTPError(400, "'default' takes no percent")
        return None
    try:
        mode = Mode(name)
    except ValueError:
        names = ", ".join([*(mode.value for mode in Mode), DEFAULT])
        raise _HTTPError(400, f"'mode' is one of {names}, not {name!r}") from None
    if mode is Mode.CANARY and percent is None:
        raise _HTTPError(400, "canary needs a 'percent' (0-100: the share of clients on new)")
    return RouteMode(mode, float(percent or 0))


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                raise _HTTPError(400, "Content-Length is not a number") from None
            if declared > MAX_BODY:
                raise _HTTPError(413, f"the body is limited to {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _HTTPError(400, "the client went away")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _HTTPError(413, f"the body is limited to {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(
    send: Send, status: int, document: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(document, indent=2).encode() + b"\n"
    await send_json(send, status, body, headers or ())


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
