"""One request's state, shared by the app's worker thread and its event-loop coroutine.

The thread runs the app and iterates its response into `chunks`, recording its progress in
`state`; the coroutine waits on `waiter` and sends (see `cutover.wsgi.delivery`). The thread
hands each chunk over as it is produced once the response streams (it outgrew
`BUFFERED_RESPONSE_LIMIT`, or the bridge found it still running after a tick), and pauses while
more than `STREAM_HIGH_WATER` bytes wait for the client. Once the client is gone, the next write
stops the iteration and the iterator is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from cutover.wsgi.environ import Environ, WSGIApp
from cutover.wsgi.input import BodyProgress, ClientGone
from cutover.wsgi.start_response import check_response

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

BUFFERED_RESPONSE_LIMIT = 1024 * 1024
STREAM_HIGH_WATER = 1024 * 1024

logger = logging.getLogger("cutover.wsgi")


class State(enum.Enum):
    """How far the app's thread has got: written by that thread, or by the loop if it never ran."""

    WAITING = "waiting"  # queued, or running before start_response
    STARTED = "started"  # start_response accepted: status and headers are set
    DONE = "done"  # the thread has finished and the response is complete
    FAILED = "failed"  # the app raised, or returned without starting a response
    EXPIRED = "expired"  # the pool dropped the request without running it


# Looking a member up on the Enum costs ~0.2 us on 3.11; the per-request path uses these.
WAITING = State.WAITING
STARTED = State.STARTED
DONE = State.DONE
FAILED = State.FAILED
EXPIRED = State.EXPIRED


class WSGIResponder:
    """One request's state, shared by its event-loop coroutine and its worker thread.

    Besides `state`, the loop owns `headers_sent` (claimed before the start message goes out),
    and two one-way signals are raised by either side and never cleared: `streaming` (hand each
    chunk over as it is produced) and `cancelled` (nobody listens any more).
    """

    __slots__ = (
        "app",
        "body_input",
        "cancelled",
        "chunks",
        "close_connection",
        "consumed",
        "content_length",
        "drained",
        "environ",
        "headers",
        "headers_sent",
        "loop",
        "produced",
        "state",
        "status",
        "streaming",
        "too_large_app",
        "waiter",
        "watcher",
    )

    def __init__(
        self,
        app: WSGIApp,
        loop: asyncio.AbstractEventLoop,
        environ: Environ,
        body_input: BodyProgress | None,
        too_large_app: WSGIApp,
    ) -> None:
        self.app = app
        self.loop = loop
        self.environ = environ
        self.body_input = body_input
        self.too_large_app = too_large_app
        self.state = WAITING
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.content_length: int | None = None
        self.close_connection = False
        self.chunks: deque[bytes] = deque()
        self.produced = 0
        self.consumed = 0
        self.streaming = False
        self.cancelled = False
        self.headers_sent = False
        self.drained: threading.Event | None = None
        self.waiter: asyncio.Future[None] = loop.create_future()
        self.watcher: asyncio.Task[None] | None = None

    # --- worker thread side -------------------------------------------------------------

    def run(self) -> None:
        """Run the app and iterate its response; called on a pool thread."""
        failed = False
        try:
            failed = not self._respond(self.app, quiet_if_too_large=True)
            body_input = self.body_input
            if body_input is not None and body_input.too_large:
                self.close_connection = True
                if self.status != 413 and not self.headers_sent:
                    # The app did not answer the oversized body with a 413: answer as it would.
                    self.state = WAITING
                    self.status = None
                    self.content_length = None
                    self.chunks.clear()
                    self.produced = 0
                    failed = not self._respond(self.too_large_app, quiet_if_too_large=False)
        finally:
            self.state = DONE if not failed and self.state is STARTED else FAILED
            self._wake_loop()

    def _respond(self, app: WSGIApp, *, quiet_if_too_large: bool) -> bool:
        """Call `app` and iterate its response; False if it raised."""
        app_iter: Iterable[bytes] | None = None
        try:
            app_iter = app(self.environ, self.start_response)
            for chunk in app_iter:
                if chunk:
                    self.write(chunk)
                elif self.cancelled:
                    raise ClientGone
        except ClientGone:
            pass
        except Exception:
            body_input = self.body_input
            if not (quiet_if_too_large and body_input is not None and body_input.too_large):
                logger.exception(
                    "Error handling request %s %s",
                    self.environ["REQUEST_METHOD"],
                    self.environ["RAW_URI"],
                )
            return False
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logger.exception("Error closing the response iterator")
        return True

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None, /
    ) -> Callable[[bytes], object]:
        """PEP 3333 start_response: checked as gunicorn does, converted to bytes here, once."""
        if exc_info is not None and exc_info[1] is not None:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.state is STARTED:
            raise AssertionError("Response headers already set")
        self.status, self.headers, self.content_length = check_response(status, headers)
        self.chunks.clear()
        self.produced = 0
        self.state = STARTED
        return self.write

    def write(self, chunk: bytes) -> None:
        """Queue a body chunk; while streaming, wait if the client is too far behind."""
        if self.cancelled:
            raise ClientGone
        self.chunks.append(chunk)
        self.produced += len(chunk)
        if self.streaming:
            self._wake_loop()
            if self.produced - self.consumed > STREAM_HIGH_WATER:
                self._wait_for_client()
        elif self.produced > BUFFERED_RESPONSE_LIMIT:
            self.streaming = True
            self._wake_loop()

    def _wait_for_client(self) -> None:
        if self.drained is None:
            self.drained = threading.Event()
        drained = self.drained
        while self.produced - self.consumed > STREAM_HIGH_WATER:
            drained.clear()
            if self.cancelled:
                raise ClientGone
            if self.produced - self.consumed <= STREAM_HIGH_WATER:
                break
            drained.wait(1.0)
        if self.cancelled:
            raise ClientGone

    def _wake_loop(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.wake)
        except RuntimeError:
            self.cancelled = True

    def expire(self) -> None:
        """The pool dropped this request unstarted; called on a pool thread."""
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self.loop.call_soon_threadsafe(self._expired)

    def _expired(self) -> None:
        self.state = EXPIRED
        self.wake()

    # --- event loop side ----------------------------------------------------------------

    def wake(self) -> None:
        """Resume the coroutine waiting on this request."""
        if not self.waiter.done():
            self.waiter.set_result(None)

    def stream_if_running(self) -> None:
        """Switch a response still running to streaming; the bridge calls it after a tick."""
        state = self.state
        if state is not DONE and state is not FAILED:
            self.streaming = True
            self.wake()

    def cancel(self) -> None:
        """Tell the app's thread the client is gone."""
        self.cancelled = True
        if self.drained is not None:
            self.drained.set()
        self.wake()

    def release(self) -> None:
        """The coroutine is leaving: stop a thread that is still producing for nobody."""
        state = self.state
        if state is not DONE and state is not FAILED:
            self.cancel()

    def mark_consumed(self, count: int) -> None:
        """Record bytes handed to the server, releasing a thread held by backpressure."""
        self.consumed += count
        drained = self.drained
        if drained is not None and self.produced - self.consumed <= STREAM_HIGH_WATER:
            drained.set()

    def take_chunks(self) -> bytes:
        """Everything produced so far, as one bytes object."""
        chunks = self.chunks
        if len(chunks) == 1:
            return chunks.popleft()
        parts = []
        while chunks:
            parts.append(chunks.popleft())
        return b"".join(parts)
