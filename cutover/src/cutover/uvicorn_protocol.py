"""uvicorn's httptools protocol plus what uvicorn lacks: a request-header deadline, header limits.

uvicorn (0.54) bounds neither the time to receive request headers (`--timeout-keep-alive` only
runs between requests and is cancelled by the first byte; a fresh connection is never timed) nor,
on httptools, their size (`--h11-max-incomplete-event-size` exists for h11 only). Serve with
`uvicorn gateway:app --http cutover.uvicorn_protocol:GuardedHttpToolsProtocol ...`.

Per connection: a timer from `connection_made` (and, on keep-alive, from each request's first
byte) to `on_headers_complete`; when it fires the connection is closed without an answer. Headers
are refused with 431 and a close when a field line exceeds `max_header_field_size` (counted as
gunicorn does: `name: value` plus CRLF), when there are more than `max_header_fields`, or when the
request target and field lines exceed `max_header_bytes`. A request's headers still incomplete after
more than `max_header_bytes` arrived in later reads are refused too, so httptools never buffers
more than that plus one read (about 256 KB) for a partial header. A request whose headers arrive in
one read arms no timer: the normal path costs a few attribute updates.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httptools
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

TOO_LARGE_BODY = b"Request Header Fields Too Large"
# After a 431 the rest of the request is read and dropped this long, so that closing with unread
# bytes does not reset the connection before the client has read the answer.
LINGER_SECONDS = 2.0


class ServerSettings(BaseSettings):
    """Limits read by the protocol from `CUTOVER_*`, apart from the `Gateway` keyword options."""

    model_config = SettingsConfigDict(env_prefix="CUTOVER_", extra="ignore")

    header_timeout: float = Field(default=10.0, gt=0)
    max_header_field_size: int = Field(default=8190, gt=0)
    max_header_fields: int = Field(default=100, gt=0)
    max_header_bytes: int = Field(default=65536, gt=0)


@functools.cache
def server_settings() -> ServerSettings:
    """Read once per process: every connection of a worker shares the same limits."""
    return ServerSettings()


class _HeadersRefused(Exception):
    """Raised from a parser callback to stop httptools once the 431 has been sent."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing slow header senders and refusing oversized headers."""

    # uvicorn's protocol already has 28 instance attributes; 9 more in its __dict__ would pass
    # CPython's 30-key limit for shared-key instance dicts and slow every attribute access.
    __slots__ = (
        "_header_size",
        "_header_timeout",
        "_header_timer",
        "_headers_pending",
        "_late_bytes",
        "_max_field_size",
        "_max_fields",
        "_max_header_bytes",
        "_refused",
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = server_settings()
        self._header_timeout = limits.header_timeout
        self._max_field_size = limits.max_header_field_size
        self._max_fields = limits.max_header_fields
        self._max_header_bytes = limits.max_header_bytes
        self._header_timer: asyncio.TimerHandle | None = None
        self._headers_pending = False
        self._header_size = 0
        self._late_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Mirrors HttpToolsProtocol.data_received (uvicorn 0.54) around the header accounting.
        if self._refused:
            return
        if self._headers_pending:
            self._late_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._refused:
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        else:
            if self._headers_pending:
                if self._late_bytes > self._max_header_bytes:
                    self._refuse_headers()
                elif self._header_timer is None:
                    self._arm_header_timer()

    def on_message_begin(self) -> None:
        self._headers_pending = True
        self._header_size = 0
        self._late_bytes = 0
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + 4
        self._header_size += size
        if size > self._max_field_size or len(self.headers) >= self._max_fields:
            self._refuse_headers()
            raise _HeadersRefused
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_pending = False
        self._cancel_header_timer()
        if self._header_size + len(self.url) > self._max_header_bytes:
            self._refuse_headers()
            raise _HeadersRefused
        super().on_headers_complete()

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self._header_timeout, self._header_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request waits, unread, for the one being answered: not the client's delay.
            self._arm_header_timer()
            return
        self.transport.close()

    def _refuse_headers(self) -> None:
        self._refused = True
        self._headers_pending = False
        self._cancel_header_timer()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A 431 now would land inside the response still being written for an earlier request.
            self.transport.close()
            return
        self.logger.warning("Request header fields too large.")
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.append(
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (len(TOO_LARGE_BODY), TOO_LARGE_BODY)
        )
        self.transport.write(b"".join(content))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._header_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
