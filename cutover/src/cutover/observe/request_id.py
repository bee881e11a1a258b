"""The request id: the client's `X-Request-ID` when it is safe to repeat, else a fresh one, carried
to both sides (ASGI headers, so the WSGI environ's `HTTP_X_REQUEST_ID`, and `scope["state"]`)."""

from __future__ import annotations

import os
import re

from starlette.types import Message, Scope, Send

HEADER = b"x-request-id"
MAX_LENGTH = 128

# Conservative: nothing that could split a log line, quote a field or need escaping in a header.
_VALID = re.compile(rb"[A-Za-z0-9._~:/+=-]{1,%d}" % MAX_LENGTH).fullmatch

# Ids must be unique, not secret (a client may send its own): random bits from the OS, drawn a
# block at a time so a request pays no syscall; dropped in a forked child so workers never share.
_BLOCK = 1024
_pool: list[bytes] = []


def _reseed() -> None:
    _pool.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed)


def new_request_id() -> bytes:
    """128 random bits as 32 lowercase hex characters."""
    try:
        return _pool.pop()  # atomic: a worker thread drawing too gets an id of its own
    except IndexError:
        block = os.urandom(16 * _BLOCK).hex().encode("ascii")
        _pool.extend([block[start : start + 32] for start in range(32, len(block), 32)])
        return block[:32]


def request_id(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The first incoming `X-Request-ID` if it is 1-128 safe characters, else a new id."""
    for name, value in headers:
        if name == HEADER:
            if _VALID(value):
                return value
            break
    return new_request_id()


def tag_request(scope: Scope) -> tuple[bytes, bool]:
    """`request_id` and `with_request_id` in one pass over the headers, for the request path:
    the request's own scope is tagged in place (ASGI gives each request its own scope, headers
    and copy of the lifespan state), so nothing is copied. Returns the id and, read in the same
    pass so the gateway needs no second one, whether the request declares a body (a length or
    a transfer coding)."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    incoming = None
    declares_body = False
    for name, value in headers:
        if name == HEADER:
            if incoming is None:
                incoming = value
        elif name == b"content-length" or name == b"transfer-encoding":
            declares_body = True
    if incoming is None:
        rid = new_request_id()
        headers.append((HEADER, rid))
    elif _VALID(incoming):
        rid = incoming
    else:
        rid = new_request_id()
        headers[:] = [header for header in headers if header[0] != HEADER]
        headers.append((HEADER, rid))
    state = scope.get("state")
    if state is None:
        scope["state"] = state = {}
    state["request_id"] = rid.decode("ascii")
    return rid, declares_body


def with_request_id(scope: Scope, rid: bytes) -> Scope:
    """A copy of `scope` whose headers carry `rid` as the only `X-Request-ID` and whose state
    (copied, never the server's own dict) holds it as `request_id` (str)."""
    headers = [header for header in scope["headers"] if header[0] != HEADER]
    headers.append((HEADER, rid))
    return {
        **scope,
        "headers": headers,
        "state": {**scope.get("state", {}), "request_id": rid.decode("ascii")},
    }


def response_with_request_id(message: Message, rid: bytes) -> Message:
    """An `http.response.start` message with `rid` as its only `X-Request-ID` header (the
    client and the log see the same id); other messages are returned unchanged."""
    if message["type"] != "http.response.start":
        return message
    headers = [header for header in message.get("headers", ()) if header[0].lower() != HEADER]
    headers.append((HEADER, rid))
    return {**message, "headers": headers}


def send_with_request_id(send: Send, rid: bytes) -> Send:
    """`send` that returns `rid` on the response (`response_with_request_id`)."""

    async def send_id(message: Message) -> None:
        await send(response_with_request_id(message, rid))

    return send_id
