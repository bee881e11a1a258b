"""Which requests the OpenAPI document learns from, decided so an unsampled request costs one dict
read and write: a countdown per route, zero for the first few requests of a route and then once
every `every`; only a sampled request has its `receive` and `send` wrapped to keep the bodies."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from starlette.types import Message, Receive, Scope, Send

from cutover.asgi import header_value

FIRST = 3  # requests of a route always sampled before its countdown starts
MAX_PENDING = 256  # samples waiting in memory for the collector; past it they are dropped
NEVER = sys.maxsize
_JSON_LIKE = (b"json",)


@dataclass(slots=True)
class RawSample:
    """One answered request as the wire carried it; parsed and redacted later, off the loop."""

    route: str
    status: int = 0
    content_type: str | None = None
    request_content_type: str | None = None
    request_body: bytearray = field(default_factory=bytearray)
    response_body: bytearray = field(default_factory=bytearray)
    too_large: set[str] = field(default_factory=set)  # "request", "response": body not kept


def _keeps_body(content_type: str | None) -> bool:
    return content_type is not None and any(k in content_type.encode() for k in _JSON_LIKE)


class ResponseSampler:
    """The countdowns (`due`, read by the gateway per request) and the samples not yet written.

    `every=0` learns nothing: a route's first request sets its countdown to never.
    """

    def __init__(self, every: int = 100, *, first: int = FIRST, max_body: int = 64 << 10) -> None:
        self.every = every
        self.first = first
        self.max_body = max_body
        self.due: dict[str | None, int] = {None: NEVER}  # unmatched paths are never sampled
        self.taken: dict[str, int] = {}  # samples begun per route
        self.pending: list[RawSample] = []
        self.dropped = 0

    def arm(self, route: str) -> None:
        """Sample the route's next request (a status not sampled yet was answered)."""
        if self.every and route in self.due:
            self.due[route] = 0

    def start(
        self, route: str | None, scope: Scope, receive: Receive, send: Send
    ) -> tuple[Receive, Send]:
        """Called by the gateway when `route`'s countdown is zero: the next countdown, and
        `receive` and `send` wrapped to record this request (unchanged when it is not kept)."""
        if route is None or not self.every:
            self.due[route] = NEVER
            return receive, send
        taken = self.taken[route] = self.taken.get(route, 0) + 1
        self.due[route] = 0 if taken < self.first else self.every - 1
        if scope["method"] in ("HEAD", "OPTIONS") or len(self.pending) >= MAX_PENDING:
            return receive, send
        sample = RawSample(
            route, request_content_type=header_value(scope.get("headers"), b"content-type")
        )
        return self._receive(sample, receive), self._send(sample, send)

    def _receive(self, sample: RawSample, receive: Receive) -> Receive:
        keep = _keeps_body(sample.request_content_type)

        async def recorded() -> Message:
            message = await receive()
            if keep and message["type"] == "http.request":
                self._append(sample, "request", message.get("body", b""))
            return message

        return recorded

    def _send(self, sample: RawSample, send: Send) -> Send:
        async def recorded(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                sample.status = int(message["status"])
                sample.content_type = header_value(message.get("headers"), b"content-type")
            elif kind == "http.response.body":
                if _keeps_body(sample.content_type):
                    self._append(sample, "response", message.get("body", b""))
                if not message.get("more_body", False) and len(self.pending) < MAX_PENDING:
                    self.pending.append(sample)
            await send(message)

        return recorded

    def _append(self, sample: RawSample, which: str, chunk: bytes) -> None:
        body = sample.request_body if which == "request" else sample.response_body
        if which in sample.too_large:
            return
        if len(body) + len(chunk) > self.max_body:
            sample.too_large.add(which)  # a partial JSON document teaches nothing: not kept
            body.clear()
        else:
            body += chunk

    def take(self) -> list[RawSample]:
        """The samples finished since the last call (on the loop)."""
        taken, self.pending = self.pending, []
        return taken
