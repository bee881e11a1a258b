"""A legacy worker process: runs a WSGI app for the gateway, one request per connection at a time.

`python -m cutover.wsgi.worker MODULE:ATTR --socket PATH` (or `MODULE:FACTORY()`) listens on a
Unix socket; the gateway (`cutover.wsgi.remote`) builds each request's environ exactly as it
would in-process and ships it here in a small framed protocol, with the body streamed after it,
and the status, headers and body chunks come back as the app produces them. The module uses the
standard library only and runs as a plain script too (`python path/to/worker.py ...`), so the
legacy app can keep an older interpreter or Flask than the gateway's.

Frames: one kind byte, a 4-byte big-endian length, the payload. Gateway to worker: REQUEST
(JSON `[environ, too_large]`), then BODY chunks ended by BODY_END or BODY_TOO_LARGE. Worker to
gateway: HEAD (JSON `[status, headers]`, sent with the first body chunk or at the end), BODY
chunks, then DONE or FAILED. A closed connection means the client is gone: the app's next write
stops it and its iterator is closed.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import json
import logging
import os
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

HEADER = struct.Struct(">cI")
REQUEST = b"Q"
BODY = b"B"
BODY_END = b"Z"
BODY_TOO_LARGE = b"T"
HEAD = b"H"
DONE = b"E"
FAILED = b"X"
PARENT_CHECK_INTERVAL = 1.0

logger = logging.getLogger("cutover.wsgi.worker")

if TYPE_CHECKING:  # the worker runs on older interpreters too: no runtime generics
    Headers = list[tuple[str, str]]


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    """One frame, ready to write."""
    return HEADER.pack(kind, len(payload)) + payload


class Gone(Exception):
    """The gateway closed the connection: the client left, or the gateway is shutting down."""


class _Connection:
    """A connection to the gateway, read frame by frame."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def read_frame(self) -> tuple[bytes, bytes] | None:
        head = self.reader.read(HEADER.size)
        if len(head) < HEADER.size:
            return None
        kind, length = HEADER.unpack(head)
        payload = self.reader.read(length) if length else b""
        if len(payload) < length:
            return None
        return kind, payload

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise Gone from exc


def _too_large_error() -> Exception:
    """What reading a body past the limit raises: werkzeug's 413 (Flask answers it) if present."""
    try:
        from werkzeug.exceptions import RequestEntityTooLarge
    except ImportError:
        return OSError("request body too large")

    class BodyTooLarge(RequestEntityTooLarge, OSError):
        pass

    return BodyTooLarge()


class FramedInput(io.RawIOBase):
    """`wsgi.input`: the body frames the gateway streams, read as the app asks for them."""

    def __init__(self, connection: _Connection) -> None:
        super().__init__()
        self._connection = connection
        self._buffer = bytearray()
        self.finished = False
        self.too_large = False

    def readable(self) -> bool:
        return True

    def _pull(self) -> bool:
        if self.finished:
            return False
        got = self._connection.read_frame()
        if got is None:
            self.finished = True
            raise Gone("gateway closed the connection while sending the body")
        kind, payload = got
        if kind == BODY:
            self._buffer += payload
            return True
        self.finished = True
        if kind == BODY_TOO_LARGE:
            self.too_large = True
            raise _too_large_error()
        return False

    def drain(self) -> None:
        """Skip what the app left unread, up to the end of the body."""
        while not self.finished:
            try:
                self._pull()
            except Exception:
                return
        self._buffer = bytearray()

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._pull():
                pass
            data = bytes(self._buffer)
            self._buffer = bytearray()
            return data
        while len(self._buffer) < size and self._pull():
            pass
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end >= 0:
                end += 1
                break
            if size is not None and 0 <= size <= len(self._buffer):
                end = size
                break
            start = len(self._buffer)
            if not self._pull():
                end = len(self._buffer)
                break
        if size is not None and 0 <= size < end:
            end = size
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data


class _Exchange:
    """One request: runs the app, sending the head with the first chunk and each chunk after.

    Once a response has produced its declared Content-Length, the rest waits for the end, so a
    buffered response goes out as one write (head, body, end) and the gateway wakes once.
    """

    def __init__(self, connection: _Connection, environ: dict[str, Any]) -> None:
        self.connection = connection
        self.environ = environ
        self.head: tuple[str, Headers] | None = None
        self.head_sent = False
        self.remaining: int | None = None  # declared body bytes not produced yet
        self.held = b""

    def start_response(
        self, status: str, headers: Headers, exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and exc_info[1] is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.head is not None:
            raise AssertionError("Response headers already set")
        self.head = (status, [(str(name), str(value)) for name, value in headers])
        self.remaining = _declared_length(self.head[1])
        return self.write

    def write(self, chunk: bytes) -> None:
        if self.head is None:
            raise AssertionError("write() before start_response()")
        data = frame(BODY, bytes(chunk))
        if not self.head_sent:
            data = self._head_frame() + data
        if self.remaining is not None:
            self.remaining -= len(chunk)
            if self.remaining <= 0:
                self.held += data
                return
        self.connection.send(data)

    def _head_frame(self) -> bytes:
        self.head_sent = True
        return frame(HEAD, json.dumps(self.head).encode())

    def respond(self, app: Callable[..., Iterable[bytes]]) -> bool:
        """Call `app` and send its response; False if it raised or never started one."""
        app_iter: Iterable[bytes] | None = None
        try:
            app_iter = app(self.environ, self.start_response)
            for chunk in app_iter:
                if chunk:
                    self.write(chunk)
        except Gone:
            raise
        except Exception:
            logger.exception(
                "Error handling request %s %s",
                self.environ["REQUEST_METHOD"],
                self.environ.get("RAW_URI", ""),
            )
            return False
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logger.exception("Error closing the response iterator")
        return self.head is not None

    def finish(self, ok: bool) -> None:
        data = self.held
        if ok and not self.head_sent:
            data += self._head_frame()
        self.connection.send(data + frame(DONE if ok else FAILED))


def _declared_length(headers: Headers) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def too_large_responder(app: Any) -> Callable[..., Iterable[bytes]]:
    """The app answering 413 as `app` would: a Flask app's own 413 handler, else werkzeug's."""
    from werkzeug.exceptions import RequestEntityTooLarge

    request_context = getattr(app, "request_context", None)
    handle_http_exception = getattr(app, "handle_http_exception", None)
    make_response = getattr(app, "make_response", None)
    if request_context is None or handle_http_exception is None or make_response is None:
        return lambda environ, start_response: RequestEntityTooLarge()(environ, start_response)

    def flask_too_large(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with request_context(environ):
            response = make_response(handle_http_exception(RequestEntityTooLarge()))
            body: Iterable[bytes] = response(environ, start_response)
            return body

    return flask_too_large


class Worker:
    """Serves the gateway's connections, each on a thread of its own."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._too_large: Callable[..., Iterable[bytes]] | None = None

    def too_large_app(self) -> Callable[..., Iterable[bytes]]:
        if self._too_large is None:
            self._too_large = too_large_responder(self.app)
        return self._too_large

    def serve_connection(self, sock: socket.socket) -> None:
        connection = _Connection(sock)
        try:
            while True:
                got = connection.read_frame()
                if got is None or got[0] != REQUEST:
                    return
                environ, too_large = json.loads(got[1])
                self._serve(connection, environ, too_large)
        except Gone:
            return
        finally:
            connection.reader.close()
            sock.close()

    def _serve(self, connection: _Connection, environ: dict[str, Any], too_large: bool) -> None:
        body = FramedInput(connection)
        environ.update(
            {
                "wsgi.version": (1, 0),
                "wsgi.input": body,
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": True,
                "wsgi.run_once": False,
                "wsgi.input_terminated": True,
            }
        )
        exchange = _Exchange(connection, environ)
        ok = exchange.respond(self.too_large_app() if too_large else self.app)
        if body.too_large and not exchange.head_sent and not _is_413(exchange.head):
            # The app did not answer the oversized body with a 413: answer as it would.
            exchange = _Exchange(connection, environ)
            ok = exchange.respond(self.too_large_app())
        exchange.finish(ok)
        body.drain()


def _is_413(head: tuple[str, Headers] | None) -> bool:
    return head is not None and head[0][:3] == "413"


def load_app(spec: str) -> Callable[..., Iterable[bytes]]:
    """`module:attr` or `module:factory()` (a call without arguments), as gunicorn takes it."""
    module_name, _, expression = spec.partition(":")
    if not module_name or not expression:
        raise SystemExit(f"cutover worker: expected MODULE:ATTR or MODULE:FACTORY(), not {spec!r}")
    target: Any = importlib.import_module(module_name)
    call = expression.endswith("()")
    for part in (expression[:-2] if call else expression).split("."):
        target = getattr(target, part)
    if call:
        target = target()
    if not callable(target):
        raise SystemExit(f"cutover worker: {spec!r} is not a WSGI callable")
    app: Callable[..., Iterable[bytes]] = target
    return app


def serve(app: Callable[..., Iterable[bytes]], path: str) -> None:
    """Listen on `path` until SIGTERM or SIGINT; the socket appears once the app is loaded."""
    worker = Worker(app)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = f"{path}.{os.getpid()}"
    if os.path.exists(staging):
        os.unlink(staging)
    listener.bind(staging)
    listener.listen(1024)
    os.replace(staging, path)  # the gateway connects only once this worker accepts

    def stop(signum: int, frame_: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while True:
            sock, _ = listener.accept()
            thread = threading.Thread(target=worker.serve_connection, args=(sock,), daemon=True)
            thread.start()
    finally:
        listener.close()


def _follow_parent(parent: int) -> None:
    """A worker outliving its gateway would hold its socket and memory for nobody."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_INTERVAL)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("app", help="the WSGI app: MODULE:ATTR or MODULE:FACTORY()")
    parser.add_argument("--socket", required=True, help="the Unix socket path to listen on")
    parser.add_argument("--parent", type=int, help="exit once this process (the gateway) is gone")
    parser.add_argument("--nice", type=int, default=0, help="lower this worker's CPU priority")
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    if args.parent:
        threading.Thread(target=_follow_parent, args=(args.parent,), daemon=True).start()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]  # run as a script: its siblings must not shadow the app's imports
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    app = load_app(args.app)
    # What the app built at import is not garbage: full collections stop walking it.
    gc.freeze()
    serve(app, args.socket)


if __name__ == "__main__":
    main()
