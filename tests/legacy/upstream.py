"""A real HTTP server on loopback standing in for the upstream service behind /fetch-data."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, get_args

# json: 200 JSON; slow: answers after `slow_seconds` (or when the behaviour changes); html: 200
# non-JSON; error: 500; down: nothing listens on the port, so connections are refused.
Behaviour = Literal["json", "slow", "html", "error", "down"]
PAYLOAD = {"items": [1, 2, 3], "source": "test upstream", "unicode": "zoë"}


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:
        upstream = self.server.upstream
        upstream.hits.append(self.path)
        behaviour = upstream.behaviour
        if behaviour == "slow":
            upstream.release_event().wait(upstream.slow_seconds)
        if behaviour == "html":
            self._send(200, "text/html; charset=utf-8", b"<html><body>maintenance</body></html>")
        elif behaviour == "error":
            self._send(500, "application/json", b'{"detail": "boom"}')
        else:
            self._send(200, "application/json", json.dumps(PAYLOAD).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout) before the answer came
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, upstream: "UpstreamServer") -> None:
        self.upstream = upstream
        super().__init__(("127.0.0.1", port), _Handler)


class UpstreamServer:
    """An upstream whose failure mode a test picks with `set_behaviour` (see `Behaviour`)."""

    def __init__(self, slow_seconds: float = 10.0) -> None:
        self.slow_seconds = slow_seconds
        self.behaviour: Behaviour = "json"
        self.hits: list[str] = []
        self._release = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/data"

    def release_event(self) -> threading.Event:
        """Set when slow responses must stop waiting (behaviour change or shutdown)."""
        return self._release

    def set_behaviour(self, behaviour: Behaviour) -> None:
        if behaviour not in get_args(Behaviour):
            raise ValueError(f"unknown upstream behaviour {behaviour!r}")
        self._release.set()
        self._release = threading.Event()
        if behaviour == "down":
            self._stop_listening()
        elif self._server is None:
            self._listen()
        self.behaviour = behaviour

    def close(self) -> None:
        self._release.set()
        self._stop_listening()

    def _listen(self) -> None:
        try:
            self._server = _Server(self.port, self)
        except OSError as error:
            raise RuntimeError(f"could not listen on 127.0.0.1:{self.port} again") from error
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None
